"""Due times in working time through the API: a weekend, 国庆 2026 with its adjusted Saturday,
a case filed at 17:55 on the eve of the holiday, urgent cases on the wall clock, a city
override, an emergency factor and an extension; the calendar read by anyone signed in and
changed by the city admin alone. Both databases.

Cases are filed at a chosen moment by replacing ``backend.core.clock.now`` (the one clock the
cases read); each expected due time is worked out by hand in its comment, and checked against
the rule (``worktime.due_time``) as well.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.calendar.tables import CalendarOverride
from backend.core import clock
from backend.core.db import use_engine, write_transaction
from backend.core.events import EventType
from backend.core.worktime import WorkingCalendar, due_time
from backend.events.service import NewEvent, append
from tests.backend.case_steps import DISTRICT, demo_spot, report_body, sign_in

TZ = ZoneInfo("Asia/Shanghai")
WORK = WorkingCalendar(timezone=TZ)
# Category 1501 路灯不亮, to accept: urgent 2 h (calendar hours), high 4 h, normal 24 h.
ACCEPT = {"urgent": timedelta(hours=2), "high": timedelta(hours=4), "normal": timedelta(hours=24)}
CLOSE_NORMAL = timedelta(hours=120)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as c:
        yield c


@pytest.fixture
def spot(demo_city) -> tuple[float, float]:
    return demo_spot(demo_city)


@pytest.fixture
def now_is(monkeypatch):
    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    return set_now


async def filed(api, spot, now_is, moment: datetime, priority: str = "normal") -> dict:
    now_is(moment)
    resident = await sign_in(api, "resident")
    r = await api.post(
        "/api/cases", json=report_body(spot, priority=priority), headers=resident.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def due_of(case: dict) -> datetime:
    return datetime.fromisoformat(case["due_at"])


@pytest.mark.parametrize(
    ("moment", "priority", "due"),
    [
        # Friday 17:00, 24 h: 1 h on Friday, 7 h on Monday, Tuesday and Wednesday, 2 h on
        # Thursday morning.
        (at(2026, 11, 27, 17), "normal", at(2026, 12, 3, 10, 30)),
        # 17:55 on 9-30, the last working day before 国庆 (10-01 … 10-07): 5 min, then from
        # 10-08 08:30: 3 h 30 until noon and 25 min after lunch.
        (at(2026, 9, 30, 17, 55), "high", at(2026, 10, 8, 14, 55)),
        # Friday 10-09 17:00: 1 h, then Saturday 10-10, a workday in exchange (调休): 3 h.
        (at(2026, 10, 9, 17), "high", at(2026, 10, 10, 11, 30)),
        # Urgent limits count calendar hours: 17:55 + 2 h, holiday or not.
        (at(2026, 9, 30, 17, 55), "urgent", at(2026, 9, 30, 19, 55)),
    ],
)
async def test_the_time_to_accept_runs_in_working_time(api, spot, now_is, moment, priority, due):
    case = await filed(api, spot, now_is, moment, priority)
    assert due_of(case) == due
    calendar = None if priority == "urgent" else WORK
    assert due == due_time(moment, ACCEPT[priority], calendar)


async def test_the_time_to_close_and_an_extension_run_in_working_time(api, spot, now_is):
    case = await filed(api, spot, now_is, at(2026, 11, 27, 17))
    leader = await sign_in(api, "grid_leader")
    worker = await sign_in(api, "grid_worker")
    accepted_at = at(2026, 11, 30, 9)  # Monday
    now_is(accepted_at)

    async def act(who, **body) -> dict:
        version = (await api.get(f"/api/cases/{case['id']}", headers=who.headers)).json()
        r = await api.post(
            f"/api/cases/{case['id']}/transitions",
            json={"version": version["version"], **body},
            headers=who.headers,
        )
        assert r.status_code == 200, r.text
        return r.json()

    accepted = await act(leader, action="accept")
    # Monday 11-30 from 09:00 keeps 6 h 30, then 16 working days (Tuesday 12-01 … Tuesday
    # 12-22) make 118 h 30, and Wednesday 12-23 the last 1 h 30 from 08:30.
    assert due_of(accepted) == at(2026, 12, 23, 10)
    assert due_of(accepted) == due_time(accepted_at, CLOSE_NORMAL, WORK)
    await act(leader, action="dispatch", assignee=worker.person_id)
    await act(worker, action="request_extension", extension_hours=10)
    granted = await act(leader, action="approve_extension")
    # 10 working hours after the due time: 5 h 30 left on Wednesday, 3 h 30 on Thursday
    # 12-24 morning and 1 h after lunch.
    assert due_of(granted) == at(2026, 12, 24, 15, 30)
    assert due_of(granted) == due_time(due_of(accepted), timedelta(hours=10), WORK)


async def test_a_city_override_moves_due_times_and_is_the_city_admin_s(api, spot, now_is):
    friday = at(2026, 11, 27, 17)
    city = await sign_in(api, "city_admin")
    off = {"working": False, "reason": "市运会放假"}
    for role in ("district_admin", "grid_leader", "resident"):
        who = await sign_in(api, role)
        r = await api.put("/api/calendar/overrides/2026-12-03", json=off, headers=who.headers)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
    r = await api.put("/api/calendar/overrides/2026-12-03", json=off, headers=city.headers)
    assert r.status_code == 200, r.text
    # Thursday 12-03 off: the last 2 h fall on Friday 12-04.
    assert due_of(await filed(api, spot, now_is, friday)) == at(2026, 12, 4, 10, 30)

    resident = await sign_in(api, "resident")
    days = await api.get(
        "/api/calendar", params={"from": "2026-12-03", "to": "2026-12-03"}, headers=resident.headers
    )
    assert days.json()["days"] == [
        {"date": "2026-12-03", "working": False, "why": "day_off", "reason": "市运会放假"}
    ]
    # An extra working day: Saturday 11-28 worked takes 7 h, so Thursday is reached sooner.
    extra = {"working": True, "reason": "防汛备勤"}
    r = await api.put("/api/calendar/overrides/2026-11-28", json=extra, headers=city.headers)
    assert r.status_code == 200, r.text
    r = await api.delete("/api/calendar/overrides/2026-12-03", headers=city.headers)
    assert (r.status_code, r.json()) == (
        200,
        {"date": "2026-12-03", "working": True, "why": "workday"},
    )
    # 1 h Friday, 7 h Saturday, 7 h Monday, 7 h Tuesday, 2 h Wednesday 12-02.
    assert due_of(await filed(api, spot, now_is, friday)) == at(2026, 12, 2, 10, 30)
    gone = await api.delete("/api/calendar/overrides/2026-12-03", headers=city.headers)
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")

    timeline = await api.get(
        "/api/calendar", params={"from": "2026-11-28", "to": "2026-11-28"}, headers=city.headers
    )
    assert timeline.json()["days"][0]["why"] == "extra_workday"


async def test_the_city_sets_its_working_hours(api, spot, now_is):
    city = await sign_in(api, "city_admin")
    summer = {"hours": "08:00-12:00, 15:00-18:30"}
    for role in ("district_admin", "street_staff"):
        who = await sign_in(api, role)
        r = await api.put("/api/calendar/hours", json=summer, headers=who.headers)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
    for bad in ("8-12", "14:00-18:00,08:00-12:00", "12:00-08:00"):
        r = await api.put("/api/calendar/hours", json={"hours": bad}, headers=city.headers)
        assert (r.status_code, r.json()["code"]) == (422, "invalid_hours"), bad
    r = await api.put("/api/calendar/hours", json=summer, headers=city.headers)
    assert r.json() == {"hours": "08:00-12:00,15:00-18:30"}
    # Friday 17:00, 24 h of 7 h 30 a day: 1 h 30 on Friday, 7 h 30 on Monday and Tuesday,
    # then 4 h on Wednesday morning and 3 h 30 from 15:00.
    case = await filed(api, spot, now_is, at(2026, 11, 27, 17))
    assert due_of(case) == at(2026, 12, 2, 18, 30)
    days = await api.get(
        "/api/calendar", params={"from": "2026-12-02", "to": "2026-12-02"}, headers=city.headers
    )
    assert days.json()["hours"] == "08:00-12:00,15:00-18:30"


async def test_an_emergency_factor_shrinks_working_time(api, spot, now_is):
    admin = await sign_in(api, "district_admin")
    body = {"area_code": DISTRICT, "kind": "flood", "reason": "防汛应急响应", "factor": 0.5}
    r = await api.post("/api/emergency/modes", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    friday = at(2026, 11, 27, 17)
    case = await filed(api, spot, now_is, friday)
    # 12 working hours: 1 h Friday, 7 h Monday, 3 h 30 Tuesday morning and 30 min after lunch.
    assert due_of(case) == at(2026, 12, 1, 15)
    assert due_of(case) == due_time(friday, ACCEPT["normal"], WORK, factor=0.5)


async def test_an_override_made_by_another_process_is_heard_through_the_event_log(
    api, scratch_database, spot, now_is
):
    friday = at(2026, 11, 27, 17)
    assert due_of(await filed(api, spot, now_is, friday)) == at(2026, 12, 3, 10, 30)  # cached

    @contextmanager
    def elsewhere():  # the test's own engine: the app's PostgreSQL pool lives on its loop
        use_engine(scratch_database.engine)
        try:
            yield
        finally:
            use_engine(api.app.state.engine)

    with elsewhere():  # as another process would: the row and its event, nothing in memory
        async with write_transaction(CalendarOverride._meta.db):
            await CalendarOverride.insert(
                CalendarOverride(
                    day=at(2026, 12, 3).date(), working=False, reason="停电", set_at=friday
                )
            )
            await append([NewEvent(EventType.calendar_changed, "calendar:2026-12-03", "", {})])
    for _ in range(50):  # the hub reads the log at least once a second
        due = due_of(await filed(api, spot, now_is, friday))
        if due != at(2026, 12, 3, 10, 30):
            break
        await asyncio.sleep(0.1)
    assert due == at(2026, 12, 4, 10, 30)


async def test_the_calendar_says_why_each_day_is_worked_or_not(client):
    resident = await sign_in(client, "resident")
    r = await client.get(
        "/api/calendar", params={"from": "2026-09-30", "to": "2026-10-11"}, headers=resident.headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hours"] == "08:30-12:00,14:30-18:00" and body["unknown_years"] == []
    why = {d["date"]: (d["working"], d["why"]) for d in body["days"]}
    assert why["2026-09-30"] == (True, "workday")
    assert all(why[f"2026-10-0{n}"] == (False, "holiday") for n in range(1, 8))
    assert why["2026-10-10"] == (True, "adjusted_workday")
    holidays = {d["date"]: d.get("holiday") for d in body["days"]}
    assert holidays["2026-10-01"] == holidays["2026-10-10"] == "national_day"
    assert holidays["2026-09-30"] is None
    assert why["2026-10-11"] == (False, "weekend")
    ahead = await client.get(
        "/api/calendar", params={"from": "2027-01-01", "to": "2027-01-04"}, headers=resident.headers
    )
    # A year the national calendar does not know: weekends alone, and said so.
    assert ahead.json()["unknown_years"] == [2027]
    assert [d["working"] for d in ahead.json()["days"]] == [True, False, False, True]
    assert not any(d["known"] for d in ahead.json()["days"])
    for params, code in [
        ({"from": "2026-10-02", "to": "2026-10-01"}, "invalid_range"),
        ({"from": "2026-01-01", "to": "2027-06-01"}, "invalid_range"),
    ]:
        r = await client.get("/api/calendar", params=params, headers=resident.headers)
        assert (r.status_code, r.json()["code"]) == (422, code)
    bad = await client.get(
        "/api/calendar", params={"from": "2026-10-01", "to": "x"}, headers=resident.headers
    )
    assert bad.status_code == 400
    days = {"from": "2026-10-01", "to": "2026-10-02"}
    assert (await client.get("/api/calendar", params=days)).status_code == 401


async def test_health_warns_of_a_year_the_holiday_calendar_does_not_know(api, now_is):
    # chinese-calendar 1.11 knows 2026, not 2027: due times from December on may reach it.
    now_is(at(2026, 6, 1, 9))
    body = (await api.get("/api/health")).json()
    assert body["status"] == "ok" and "warnings" not in body
    now_is(at(2026, 12, 1, 9))
    r = await api.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    [warning] = r.json()["warnings"]
    assert "2027" in warning and "chinese-calendar" in warning
