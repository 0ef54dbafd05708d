"""Benchmark the notification sender: one city-wide emergency switch tells every grid post
holder and centre worker of the demo city, on 10,000 devices in all (a few per person), sent
to a local fake push service in a process of its own. Against a bare ``pywebpush`` loop
(``webpush()`` per subscription, as its README shows) over the same subscriptions, with the
same payload, in the same run.

Ours is timed from the switch's commit to the fake's count of 10,000: the event read, the
notices and outbox rows written, each push encrypted, signed and posted. The fake answers 201
without decrypting (tests/backend/test_notify.py checks the payloads).

Run from the repository root: `.venv/bin/python bench/notify.py`. Prints a table, writes
bench/results/notify.json and always exits 0; PASS/FAIL is printed per target.
"""

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pywebpush import webpush  # noqa: E402

from backend.auth.principal import principal_of  # noqa: E402
from backend.cases.categories import seed_categories  # noqa: E402
from backend.core.db import close_pool, make_engine, migrate, open_pool  # noqa: E402
from backend.core.settings import Settings  # noqa: E402
from backend.demo import load_city  # noqa: E402
from backend.emergency import switching  # noqa: E402
from backend.emergency.schemas import SwitchOn  # noqa: E402
from backend.notify.push import Pusher, vapid_key  # noqa: E402
from backend.notify.rules import staff_inside  # noqa: E402
from backend.notify.sender import run_once  # noqa: E402
from backend.notify.tables import PushSubscription  # noqa: E402
from backend.people.tables import Person  # noqa: E402
from geo.demo import build_demo_city  # noqa: E402
from tests.backend.push_fakes import FakePush  # noqa: E402
from tests.live.conftest import free_port  # noqa: E402

DEVICES = 10_000
CITY = "150300"
TARGETS = {"throughput": ">= 0.7"}
FAKE = """
import sys, uvicorn
sys.path.insert(0, {repo!r})
from tests.backend.push_fakes import FakePush
uvicorn.run(FakePush(check=False), host="127.0.0.1", port={port}, log_level="warning",
            lifespan="off")
"""


async def count(base: str) -> int:
    async with httpx.AsyncClient() as http:
        return (await http.get(base)).json()["count"]


async def subscribe(people: list[int], base: str, maker: FakePush) -> list[dict]:
    """``DEVICES`` subscriptions spread over ``people``: keys made as a browser makes them."""
    subs, rows = [], []
    now = datetime.now(UTC)
    for n in range(DEVICES):
        sub = maker.device(f"d{n}")
        sub["endpoint"] = f"{base}push/d{n}"
        subs.append(sub)
        rows.append(
            PushSubscription(
                person=people[n % len(people)],
                endpoint=sub["endpoint"],
                p256dh=sub["keys"]["p256dh"],
                auth=sub["keys"]["auth"],
                created_at=now,
            )
        )
    for start in range(0, len(rows), 1000):
        await PushSubscription.insert(*rows[start : start + 1000])
    return subs


async def ours(settings: Settings, base: str) -> float:
    admin = await Person.select(Person.id).where(Person.role == "city_admin").first()
    principal = await principal_of(admin["id"])
    assert principal is not None
    before = await count(base)
    async with Pusher(vapid_key(settings), settings.vapid_subject) as pusher:
        await run_once(settings, pusher)  # the cursor starts at the log's head
        started = time.perf_counter()
        await switching.switch_on(
            SwitchOn(area_code=CITY, kind="flood", reason="全市防汛应急响应"), principal
        )
        await run_once(settings, pusher)
        elapsed = time.perf_counter() - started
    sent = await count(base) - before
    assert sent == DEVICES, f"sent {sent}"
    return elapsed


def bare(subs: list[dict], settings: Settings, base: str, payload: bytes) -> float:
    key = vapid_key(settings)
    started = time.perf_counter()
    for sub in subs:
        webpush(
            sub,
            payload.decode(),
            vapid_private_key=key,
            vapid_claims={"sub": settings.vapid_subject},
            ttl=24 * 3600,
        )
    return time.perf_counter() - started


async def main_async(base: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), secret_key="b" * 40).with_secret()
        engine = make_engine(settings.database_url)
        await migrate(engine)
        await open_pool(engine)
        await seed_categories()
        await load_city(build_demo_city())
        for _ in range(100):
            try:
                await count(base)
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        people = await staff_inside(CITY)
        subs = await subscribe(people, base, FakePush())
        print(f"{len(people):,} people at work in the city, {len(subs):,} devices")
        ours_s = await ours(settings, base)
        print(f"wangge: {DEVICES:,} pushes in {ours_s:.2f} s")
        # The same size of payload as ours sent.
        payload = json.dumps(
            {"id": 1, "tag": "notice-1", "kind": "emergency", "title": "乌海市进入应急状态",
             "body": "乌海市已启动应急模式：全市防汛应急响应", "url": "/app"},
            ensure_ascii=False,
        ).encode()  # fmt: skip
        before = await count(base)
        bare_s = await asyncio.to_thread(bare, subs, settings, base, payload)
        assert await count(base) - before == DEVICES
        await close_pool(engine)
    figures = {"messages": DEVICES, "seconds": round(ours_s, 2),
               "throughput_per_s": round(DEVICES / ours_s)}  # fmt: skip
    reference = {"messages": DEVICES, "seconds": round(bare_s, 2),
                 "throughput_per_s": round(DEVICES / bare_s)}  # fmt: skip
    return {
        "name": "notify",
        "figures": figures,
        "reference": reference,
        "ratios": {"throughput": round(bare_s / ours_s, 3)},
        "targets": TARGETS,
    }


def main() -> None:
    port = free_port()
    fake = subprocess.Popen([sys.executable, "-c", FAKE.format(repo=str(REPO), port=port)])
    try:
        result = asyncio.run(main_async(f"http://127.0.0.1:{port}/"))
    finally:
        fake.terminate()
        fake.wait()
    ours_f, bare_f = result["figures"], result["reference"]
    print(f"{'metric':<18} | {'wangge':>10} | {'bare pywebpush':>14} | ratio | target")
    print("-" * 68)
    ratio = result["ratios"]["throughput"]
    verdict = "PASS" if ratio >= 0.7 else "FAIL"
    print(
        f"{'messages/s':<18} | {ours_f['throughput_per_s']:>10} | "
        f"{bare_f['throughput_per_s']:>14} | {ratio:>5} | >= 0.7 {verdict}"
    )
    print(f"{'seconds':<18} | {ours_f['seconds']:>10} | {bare_f['seconds']:>14} |")
    out = REPO / "bench" / "results" / "notify.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
