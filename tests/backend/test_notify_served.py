"""The sender in real processes (``wangge serve``): killed with SIGKILL half-way through a
burst and started again as two processes sharing the database, every message still reaches
its device, and twice only if it was in flight when the first process died."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from backend.core.db import close_pool, open_pool, use_engine
from backend.demo import DEMO_PASSWORD
from backend.notify.sender import IN_FLIGHT
from backend.notify.tables import Outbox, PushSubscription
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS
from tests.backend.push_fakes import FakePush
from tests.backend.sms_fakes import serving
from tests.conftest import _database_copy
from tests.served import serve, served, stop, wait_up

CITY = "150300"
PEOPLE = 8
DEVICES = 50  # per person: 400 messages from one switch


async def until(check, seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_kill_9_mid_burst_then_restart_sends_everything_once(
    city_template, tmp_path: Path
) -> None:
    kind, template = city_template
    data = tmp_path / "data"
    fake = FakePush(delay=0.1)
    env = {"WANGGE_NOTIFY_INTERVAL_S": "0.2", "WANGGE_NOTIFY_LEASE_S": "2"}
    with serving(fake) as base:  # type: ignore[arg-type]
        fake.base = base
        async with _database_copy(kind, template, data) as db:
            use_engine(db.engine)
            await open_pool(db.engine)
            people = (
                await Person.select(Person.id).where(Person.role == "grid_worker").limit(PEOPLE)
            )
            now = datetime.now(UTC)
            for p in people:
                for n in range(DEVICES):
                    sub = fake.device(f"{p['id']}-{n}")
                    await PushSubscription.insert(
                        PushSubscription(
                            person=p["id"],
                            endpoint=sub["endpoint"],
                            p256dh=sub["keys"]["p256dh"],
                            auth=sub["keys"]["auth"],
                            created_at=now,
                        )
                    )
            await close_pool(db.engine)
            first = serve(db.settings, data, **env)
            try:
                await wait_up(first)
                async with httpx.AsyncClient(base_url=first.base, timeout=30) as http:
                    signed = await http.post(
                        "/api/auth/sign-in",
                        json={"phone": DEMO_ACCOUNTS["city_admin"], "password": DEMO_PASSWORD},
                    )
                    auth = {"Authorization": f"Bearer {signed.json()['token']}"}
                    fake.server_key = (await http.get("/api/push/key")).json()["public_key"]
                    on = {"area_code": CITY, "kind": "flood", "reason": "全市防汛应急响应"}
                    r = await http.post("/api/emergency/modes", json=on, headers=auth)
                    assert r.status_code == 201, r.text
                await until(lambda: fake.count >= 120, 60)
                first.proc.kill()  # SIGKILL: no clean-up, its leased messages stay leased
                first.proc.wait()
            finally:
                stop(first)
            before = len(fake.got)
            assert before < PEOPLE * DEVICES  # it died half-way
            # Two processes now: they share what is left, neither sends what the other does.
            async with served(db.settings, data, **env), served(db.settings, data, **env):
                await until(lambda: len({w for w, _ in fake.got}) == PEOPLE * DEVICES, 60)
                use_engine(db.engine)
                await open_pool(db.engine)
                try:
                    for _ in range(100):  # the last marks commit after the last answers
                        if await Outbox.count().where(Outbox.status != "sent") == 0:
                            break
                        await asyncio.sleep(0.1)
                    assert await Outbox.count().where(Outbox.status != "sent") == 0
                finally:
                    await close_pool(db.engine)
            assert fake.refused == []
            copies = Counter(who for who, _ in fake.got)
            assert set(copies) == set(fake.devices)
            twice = {who for who, n in copies.items() if n > 1}
            # Only what the killed process had on the wire, or answered while one mark was
            # committing, went again (the fake counts a message on receipt, before it answers).
            assert len(twice) <= 2 * IN_FLIGHT and max(copies.values()) <= 2
            first_copies = {who for who, _ in fake.got[:before]}
            assert twice <= first_copies
            # One notice per person, the same in every copy to that person's devices.
            by_person: dict[str, set[int]] = {}
            for who, body in fake.got:
                by_person.setdefault(who.split("-")[0], set()).add(body["id"])
                assert body["title"].endswith("进入应急状态")
            assert all(len(ids) == 1 for ids in by_person.values())
