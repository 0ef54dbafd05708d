"""Notifications, row by row of backend/notify/rules.py's table, sent to a local fake push
service that decrypts each payload with the device's keys and checks the VAPID header; text
messages through the console sender; opt-outs, quiet hours, a device gone and a retry."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import anyio
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases.scheduler import escalate_overdue
from backend.cases.tables import Case
from backend.notify.push import Pusher, vapid_key
from backend.notify.sender import deliver, run_once
from backend.notify.tables import Outbox
from geo.demo import DEMO_ACCOUNTS
from tests.backend.case_steps import COMMUNITY, DISTRICT, Driver, demo_spot, sign_in
from tests.backend.push_fakes import FakePush
from tests.backend.sms_fakes import serving
from tests.backend.sms_steps import console_messages

ROLES = ("resident", "grid_leader", "grid_worker", "community_staff", "district_admin")


@pytest.fixture
async def api(scratch_database) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


@pytest.fixture
def fake() -> Iterator[FakePush]:
    made = FakePush()
    with serving(made) as base:  # type: ignore[arg-type]
        made.base = base
        yield made


async def on_app(api: AsyncTestClient, work: Any, *args: Any) -> Any:
    return await anyio.to_thread.run_sync(api.blocking_portal.call, work, *args)


class World:
    """The demo accounts signed in, each with one phone subscribed to the fake."""

    def __init__(self, api: AsyncTestClient, fake: FakePush, driver: Driver) -> None:
        self.api = api
        self.fake = fake
        self.driver = driver
        settings = api.app.state.settings
        self.pusher = Pusher(vapid_key(settings), settings.vapid_subject)

    def headers(self, role: str) -> dict[str, str]:
        return self.driver.sessions[role].headers

    async def subscribe(self, role: str) -> None:
        r = await self.api.post(
            "/api/push/subscriptions", json=self.fake.device(role), headers=self.headers(role)
        )
        assert r.status_code == 201, r.text

    async def flush(self) -> None:
        await on_app(self.api, run_once, self.api.app.state.settings, self.pusher)

    def got(self, role: str) -> list[dict[str, Any]]:
        return self.fake.of(role)

    def new(self, seen: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
        """What each device got since ``seen`` (updated)."""
        out = {}
        for role in self.fake.devices:
            mine = self.got(role)
            if len(mine) > seen.get(role, 0):
                out[role] = mine[seen.get(role, 0) :]
            seen[role] = len(mine)
        return out


@pytest.fixture
async def world(api, fake) -> AsyncIterator[World]:
    key = (await api.get("/api/push/key")).json()["public_key"]
    fake.server_key = key
    driver = Driver(api, {role: await sign_in(api, role) for role in ROLES})
    made = World(api, fake, driver)
    for role in ROLES:
        await made.subscribe(role)
    await made.flush()  # the cursor starts at the log's head
    yield made
    await on_app(api, made.pusher.close)
    assert fake.refused == []


async def test_a_reported_case_tells_each_person_of_their_step_once(world, demo_city):
    seen: dict[str, int] = {}
    d = world.driver
    case = await d.report(demo_spot(demo_city))
    await world.flush()
    assert world.new(seen) == {}  # a submission is the grid's queue, not a notification

    assert (await d.act("grid_leader", case, "accept")).status_code == 200
    await world.flush()
    [accepted] = world.new(seen)["resident"]
    assert accepted["title"] == "您反映的问题已受理" and f"案件{case}" in accepted["body"]
    assert accepted["url"] == f"/app/cases/{case}" and accepted["tag"] == f"notice-{accepted['id']}"

    r = await d.act("grid_leader", case, "dispatch", assignee="@grid_worker")
    assert r.status_code == 200, r.text
    await world.flush()
    news = world.new(seen)
    assert list(news) == ["grid_worker"]
    [dispatched] = news["grid_worker"]
    assert dispatched["title"] == "新案件派给您" and "路灯不亮" in dispatched["body"]

    await d.act("grid_worker", case, "start")
    await d.act("grid_worker", case, "handle", result="已更换灯泡")
    await world.flush()
    assert [m["title"] for m in world.new(seen)["resident"]] == ["您反映的问题已处理"]

    await d.act("grid_leader", case, "verify")
    await d.act("grid_leader", case, "close")
    await world.flush()
    news = world.new(seen)
    assert list(news) == ["resident"]
    [closed] = news["resident"]
    assert closed["title"] == "您反映的问题已办结，请评价"
    assert closed["url"] == f"/app/cases/{case}?rate=1"
    await world.flush()
    assert world.new(seen) == {}  # nothing twice

    # The same items, in the app's notice list, newest first.
    page = (await world.api.get("/api/notices", headers=world.headers("resident"))).json()
    assert [n["title"] for n in page["items"]] == [
        "您反映的问题已办结，请评价",
        "您反映的问题已处理",
        "您反映的问题已受理",
    ]
    assert page["unread"] == 3
    r = await world.api.post(
        "/api/notices/read",
        json={"ids": [page["items"][0]["id"]]},
        headers=world.headers("resident"),
    )
    assert r.json() == {"unread": 2}
    r = await world.api.post(
        "/api/notices/read",
        json={"upto": page["items"][0]["id"]},
        headers=world.headers("resident"),
    )
    assert r.json() == {"unread": 0}
    older = await world.api.get(
        f"/api/notices?limit=2&before={page['items'][0]['id']}", headers=world.headers("resident")
    )
    assert [n["read"] for n in older.json()["items"]] == [True, True]


async def test_a_rejection_says_why_and_an_escalation_reaches_the_centre(world, demo_city):
    seen: dict[str, int] = {}
    d = world.driver
    case = await d.report(demo_spot(demo_city))
    r = await d.act("grid_leader", case, "reject", reason="不属于网格受理范围")
    assert r.status_code == 200, r.text
    await world.flush()
    [rejected] = world.new(seen)["resident"]
    assert rejected["title"] == "您反映的问题未予受理"
    assert rejected["body"].endswith("原因：不属于网格受理范围")

    other = await d.report(demo_spot(demo_city))
    await d.act("grid_leader", other, "accept")
    await world.flush()
    world.new(seen)
    r = await d.act("grid_leader", other, "escalate", reason="需社区协调")
    assert r.status_code == 200, r.text
    await world.flush()
    news = world.new(seen)
    assert list(news) == ["community_staff"]
    assert [m["title"] for m in news["community_staff"]] == ["案件上报到您这里"]


async def test_due_within_the_hour_then_overdue_reach_the_assignee(world, demo_city):
    seen: dict[str, int] = {}
    d = world.driver
    case = await d.report(demo_spot(demo_city))
    await d.act("grid_leader", case, "accept")
    await d.act("grid_leader", case, "dispatch", assignee="@grid_worker")
    await world.flush()
    world.new(seen)

    soon = datetime.now(UTC) + timedelta(minutes=40)
    await on_app(world.api, Case.update(due_at=soon).where(Case.id == case).run)
    await world.flush()
    await world.flush()
    news = world.new(seen)
    assert list(news) == ["grid_worker"]
    assert [m["title"] for m in news["grid_worker"]] == ["案件即将到期"]

    past = datetime.now(UTC) - timedelta(minutes=1)
    await on_app(world.api, Case.update(due_at=past).where(Case.id == case).run)
    assert await on_app(world.api, escalate_overdue, datetime.now(UTC)) == [case]
    await world.flush()
    news = world.new(seen)
    # The worker hears it is overdue; the community it went up to, that it is theirs now.
    assert [m["title"] for m in news["grid_worker"]] == ["案件已超期"]
    assert [m["title"] for m in news["community_staff"]] == ["案件上报到您这里"]
    assert set(news) == {"grid_worker", "community_staff"}


async def test_a_broadcast_and_an_emergency_reach_the_grid(world):
    seen: dict[str, int] = {}
    body = {
        "client_id": "6d3f1f7e-1111-4c3a-9a57-0f6d8f2a0001",
        "area_code": COMMUNITY,
        "target": "grid",
        "title": "防汛入户排查",
        "description": "逐户核实独居老人、低洼住户",
    }
    r = await world.api.post("/api/tasks", json=body, headers=world.headers("community_staff"))
    assert r.status_code == 201, r.text
    await world.flush()
    news = world.new(seen)
    # Every grid post holder of the community (the demo's leader and worker hold posts).
    assert {"grid_worker", "grid_leader"} <= set(news) and "resident" not in news
    [task] = news["grid_worker"]
    assert task["title"] == "新的任务" and task["body"].startswith("防汛入户排查（本网格")
    assert task["url"] == "/app/tasks"

    on = {"area_code": DISTRICT, "kind": "flood", "reason": "连续强降雨"}
    r = await world.api.post(
        "/api/emergency/modes", json=on, headers=world.headers("district_admin")
    )
    assert r.status_code == 201, r.text
    await world.flush()
    news = world.new(seen)
    assert "resident" not in news
    for role in ("grid_worker", "grid_leader", "community_staff", "district_admin"):
        [m] = news[role]
        assert m["title"].endswith("进入应急状态") and "连续强降雨" in m["body"], role
    r = await world.api.post(
        f"/api/emergency/modes/{DISTRICT}/end",
        json={"reason": "汛情解除"},
        headers=world.headers("district_admin"),
    )
    assert r.status_code == 200, r.text
    await world.flush()
    [m] = world.new(seen)["grid_worker"]
    assert m["title"].endswith("恢复常态") and "汛情解除" in m["body"]


async def test_a_party_members_place_is_confirmed(world):
    seen: dict[str, int] = {}
    headers = world.headers("resident")
    r = await world.api.put(
        "/api/party/me",
        json={"work_unit": "市税务局", "home_community": COMMUNITY},
        headers=headers,
    )
    assert r.status_code in (200, 201), r.text
    now = datetime.now(UTC)
    need = {
        "client_id": "6d3f1f7e-2222-4c3a-9a57-0f6d8f2a0002",
        "community_code": COMMUNITY,
        "kind": "volunteer",
        "title": "清理楼道杂物",
        "place": "团结社区3号楼",
        "lon": 106.82,
        "lat": 39.68,
        "starts_at": (now + timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=1, hours=2)).isoformat(),
        "capacity": 5,
    }
    made = await world.api.post(
        "/api/party/needs", json=need, headers=world.headers("community_staff")
    )
    assert made.status_code == 201, made.text
    await world.flush()
    world.new(seen)
    r = await world.api.post(f"/api/party/needs/{made.json()['id']}/claims", headers=headers)
    assert r.status_code == 201, r.text
    await world.flush()
    news = world.new(seen)
    assert list(news) == ["resident"]
    assert news["resident"][0]["title"] == "报名成功"


async def test_opt_outs_and_quiet_hours(world, demo_city):
    seen: dict[str, int] = {}
    d = world.driver
    headers = world.headers("resident")
    r = await world.api.put(
        "/api/notify/preferences", json={"off": ["case_accepted"]}, headers=headers
    )
    assert r.status_code == 200 and r.json()["off"] == ["case_accepted"], r.text
    bad = await world.api.put("/api/notify/preferences", json={"off": ["nope"]}, headers=headers)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_value")
    case = await d.report(demo_spot(demo_city))
    await d.act("grid_leader", case, "accept")
    await world.flush()
    assert world.new(seen) == {}
    assert (await world.api.get("/api/notices", headers=headers)).json()["items"] == []

    # Quiet now, for the next two hours of the city's clock: held back, but listed at once.
    local = datetime.now(ZoneInfo(world.api.app.state.settings.timezone))
    start, end = local - timedelta(minutes=5), local + timedelta(hours=2)
    quiet = {"quiet_from": start.strftime("%H:%M"), "quiet_until": end.strftime("%H:%M")}
    r = await world.api.put("/api/notify/preferences", json=quiet, headers=headers)
    assert r.status_code == 200, r.text
    await d.act("grid_leader", case, "dispatch", assignee="@grid_worker")
    await d.act("grid_worker", case, "start")
    await d.act("grid_worker", case, "handle", result="已更换灯泡")
    await world.flush()
    assert "resident" not in world.new(seen)
    assert (await world.api.get("/api/notices", headers=headers)).json()["unread"] == 1
    later = datetime.now(UTC) + timedelta(hours=2, minutes=1)
    settings = world.api.app.state.settings
    await on_app(world.api, deliver, settings, world.pusher, later)
    assert [m["title"] for m in world.new(seen)["resident"]] == ["您反映的问题已处理"]

    # An emergency is urgent: quiet hours do not hold it back.
    r = await world.api.put(
        "/api/notify/preferences", json=quiet, headers=world.headers("grid_worker")
    )
    assert r.status_code == 200, r.text
    on = {"area_code": DISTRICT, "kind": "flood", "reason": "连续强降雨"}
    await world.api.post("/api/emergency/modes", json=on, headers=world.headers("district_admin"))
    await world.flush()
    assert [m["title"][-6:] for m in world.new(seen)["grid_worker"]] == ["进入应急状态"]


async def test_a_gone_device_is_forgotten_and_an_outage_retried(world, demo_city):
    seen: dict[str, int] = {}
    d = world.driver
    world.fake.answers["resident"] = [410]
    world.fake.answers["grid_worker"] = [503]
    case = await d.report(demo_spot(demo_city))
    await d.act("grid_leader", case, "accept")
    await d.act("grid_leader", case, "dispatch", assignee="@grid_worker")
    await world.flush()
    assert world.new(seen) == {}
    mine = await world.api.get("/api/push/subscriptions", headers=world.headers("resident"))
    assert mine.json() == []
    [retry] = await on_app(
        world.api, Outbox.select(Outbox.status, Outbox.tries).where(Outbox.status == "pending").run
    )
    assert retry == {"status": "pending", "tries": 1}
    settings = world.api.app.state.settings
    await on_app(world.api, deliver, settings, world.pusher, datetime.now(UTC))
    assert world.new(seen) == {}  # not before its backoff
    later = datetime.now(UTC) + timedelta(seconds=6)
    await on_app(world.api, deliver, settings, world.pusher, later)
    assert [m["title"] for m in world.new(seen)["grid_worker"]] == ["新案件派给您"]


async def test_text_messages_go_where_no_app_is(world, demo_city):
    """An anonymous reporter's contact phone hears of acceptance and closure (with the page
    the tracking code opens); an assignee with no device hears of an overdue case."""
    api, d = world.api, world.driver
    body = {
        "client_id": "6d3f1f7e-3333-4c3a-9a57-0f6d8f2a0003",
        "category": "1501",
        "description": "路灯不亮",
        "lon": demo_spot(demo_city)[0],
        "lat": demo_spot(demo_city)[1],
        "contact_phone": "13812340007",
    }
    made = await api.post("/api/anonymous/cases", json=body)
    assert made.status_code == 201, made.text
    case = made.json()["case"]["id"]
    before = len(console_messages(api))
    await d.act("grid_leader", case, "accept")
    worker = world.headers("grid_worker")
    [device] = (await api.get("/api/push/subscriptions", headers=worker)).json()
    r = await api.request(
        "DELETE", "/api/push/subscriptions", json={"endpoint": device["endpoint"]}, headers=worker
    )
    assert r.status_code == 204, r.text
    await d.act("grid_leader", case, "dispatch", assignee="@grid_worker")
    await world.flush()
    sent = console_messages(api)[before:]
    assert [(m["phone"], m["text"]) for m in sent] == [
        ("13812340007", f"您反映的问题（案件{case}）已受理，我们会尽快处理。")
    ]
    past = datetime.now(UTC) - timedelta(minutes=1)
    await on_app(api, Case.update(due_at=past).where(Case.id == case).run)
    await on_app(api, escalate_overdue, datetime.now(UTC))
    await world.flush()
    worker_phone = DEMO_ACCOUNTS["grid_worker"]
    sent = console_messages(api)[before:]
    assert sent[1:] == [
        {**sent[1], "phone": worker_phone, "text": f"您的案件{case}已超过办理时限，请尽快处理。"}
    ]
    for step in ("dispatch", "start", "handle", "verify", "close"):
        extra = {"assignee": "@grid_leader"} if step == "dispatch" else {}
        extra |= {"result": "已修复"} if step == "handle" else {}
        role = "grid_leader" if step in ("start", "handle") else "community_staff"
        r = await d.act(role, case, step, **extra)
        assert r.status_code == 200, (step, r.text)
    await world.flush()
    last = console_messages(api)[-1]
    assert last["phone"] == "13812340007"
    assert last["text"].startswith(f"您反映的问题（案件{case}）已办结，请凭查询码在http")
    assert "/app/track评价" in last["text"]
