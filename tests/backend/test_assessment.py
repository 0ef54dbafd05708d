"""The assessment of the hand-built city (test_assessment_city.py) over the API, on SQLite and
PostgreSQL: every figure of every unit at every level for March 2026, the ranking, the ranks of
February and the change, the cases behind the figures, the exports and the weights.

Every expected number below was worked out by hand from the city's page; the comments show
the sums. Scores use the weights the test sets: 按期结案率 3, 满意率 1, so
score = 100 × (3 × on_time_close_rate + satisfied_share) / 4 over the two a unit has.
"""

from __future__ import annotations

import csv
import importlib
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.assessment import queries
from backend.assessment.indicators import derive
from backend.assessment.periods import parse_period
from backend.cases.tables import Case
from backend.core.db import use_engine
from backend.events.tables import Event
from tests.backend.test_assessment_city import (
    ADMIN_PHONE,
    C1,
    C2,
    C3,
    C4,
    D1,
    D2,
    G1,
    G2,
    G3,
    G4,
    G5,
    PASSWORD,
    RESIDENT_PHONE,
    S1,
    S2,
    S3,
    build_city,
)

KEYS = (
    "received", "accepted", "voided", "accurate_accept_rate",
    "dispatched", "dispatched_on_time", "dispatch_due", "dispatch_due_on_time",
    "on_time_dispatch_rate",
    "handled", "reworked", "rework_rate",
    "due", "closed", "closed_on_time", "overdue", "close_rate", "on_time_close_rate",
    "escalated",
    "response_mean_s", "response_p90_s", "handling_mean_s", "handling_p90_s",
    "rated", "satisfied", "satisfaction_mean", "satisfied_share",
    "patrol_days", "patrolled_days", "patrol_coverage",
    "task_items", "tasks_done", "task_completion",
    "volunteer_hours",
)  # fmt: skip
WEIGHTS = {"on_time_close_rate": 3, "satisfied_share": 1}
SOURCES = ("app", "anonymous", "hotline", "patrol", "task", "open311")
SOURCE_KEYS = tuple(f"received_{s}" for s in SOURCES)
# Counted in test_assessment_scenario.py (the hand-built city's rows have no stage deadlines).
ACCEPT_KEYS = ("accept_due", "accept_due_on_time", "on_time_accept_rate")
HANDLE_KEYS = (
    "handle_due", "handle_due_done", "handle_due_on_time", "handle_rate", "on_time_handle_rate"
)  # fmt: skip
VERIFY_KEYS = ("verify_due", "verify_due_on_time", "on_time_verify_rate")
SELF_KEYS = ("self_due", "self_closed", "self_closed_on_time")
NEW_KEYS = ("self_handled", "verified", *ACCEPT_KEYS, *HANDLE_KEYS, *VERIFY_KEYS, *SELF_KEYS)


def in_order(keys: tuple[str, ...]) -> list[str]:
    """The order the API lists the indicators in: ``keys`` (KEYS, or a prefix of it from the
    same start) with the scenario test's among them, each after its kin."""
    return [
        *keys[:4], *ACCEPT_KEYS, *keys[4:12], "self_handled", *HANDLE_KEYS, "verified",
        *VERIFY_KEYS, *keys[12:16], *SELF_KEYS, *keys[16:], *SOURCE_KEYS,
    ]  # fmt: skip


# fmt: off
# To be dispatched in March (4 h after acceptance, 30 min if urgent), by their deadline: G1 c1 c5
# of c1 c2 c5; G2 c6 of c6 c7; G3 c8 (c14's deadline was in February); G4 not c10; G5 c11;
# C2 also c16, never dispatched. A worker: the cases assigned to them.
# G1: c1 c2 c3 c4 c5 received, c1 c2 c3 c5 accepted (c3 voided); c1 c2 c5 first dispatched in
# March, c1 and c5 within 24 h; c1 c2 c4 c13 first handled in March, c2 reworked; due: c1 c2 c4
# c5, closed c1 c2 c4, on time c1 c4; response 3600 43200 1800 3600; handling 86400 172800 1800
# 259200; ratings 5 3 4; patrol: 2 of 31 days; 1 task item, done.
GRID = {
    G1: (5, 4, 1, 0.75, 3, 2, 3, 2, 0.6667, 4, 1, 0.25, 4, 3, 2, 2, 0.75, 0.5, 0,
         13050.0, 43200, 130050.0, 259200, 3, 2, 4.0, 0.6667, 31, 2, 0.0645, 1, 1, 1.0, None),
    # c6 c7 (escalated; dispatched 48 h after acceptance) c15 (handled in March, first
    # dispatched in February: 1,029,600 s); response 600 3600; ratings 4 2; patrol 03-05, 03-31.
    G2: (2, 2, 0, 1.0, 2, 1, 2, 1, 0.5, 3, 0, 0.0, 2, 2, 1, 1, 1.0, 0.5, 1,
         2100.0, 3600, 400800.0, 1029600, 2, 1, 3.0, 0.5, 31, 2, 0.0645, 1, 0, 0.0, None),
    # c8, c9 (rejected), c14 (accepted in February, first dispatched 03-01 after 47 h, late).
    G3: (2, 1, 0, 1.0, 2, 1, 1, 1, 1.0, 2, 0, 0.0, 2, 2, 1, 1, 1.0, 0.5, 0,
         7200.0, 7200, 86400.0, 86400, 2, 2, 5.0, 1.0, 31, 0, 0.0, 1, 1, 1.0, None),
    # c10, urgent: dispatched 100 min after acceptance, over its 1 h limit.
    G4: (1, 1, 0, 1.0, 1, 0, 1, 0, 0.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
         1200.0, 1200, 3600.0, 3600, 1, 1, 4.0, 1.0, 31, 3, 0.0968, 1, 1, 1.0, None),
    # c11, c12 (still submitted); 3 task items of buildings, 1 done.
    G5: (2, 1, 0, 1.0, 1, 1, 1, 1, 1.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
         3600.0, 3600, 86400.0, 86400, 1, 0, 1.0, 0.0, 31, 2, 0.0645, 3, 1, 0.3333, None),
}
COMMUNITY = {
    # G1 + G2: response mean 56400 / 6; handling 1722600 / 7 = 246085.71; p90 at rank 7 of 7;
    # ratings 5 3 4 4 2 = 18 / 5; patrol 4 of 62 grid-days; hours 3.5 (m1; m2 lives in C2).
    C1: (7, 6, 1, 0.8333, 5, 3, 5, 3, 0.6, 7, 1, 0.1429, 6, 5, 3, 3, 0.8333, 0.5, 1,
         9400.0, 43200, 246085.7, 1029600, 5, 3, 3.6, 0.6, 62, 4, 0.0645, 2, 1, 0.5, 3.5),
    # G3, and c16, reported in a gap between grids of C2: accepted after 1800 s, overdue.
    C2: (3, 2, 0, 1.0, 2, 1, 2, 1, 0.5, 2, 0, 0.0, 3, 2, 1, 2, 0.6667, 0.3333, 0,
         4500.0, 7200, 86400.0, 86400, 2, 2, 5.0, 1.0, 31, 0, 0.0, 1, 1, 1.0, 2.0),
    C3: (1, 1, 0, 1.0, 1, 0, 1, 0, 0.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
         1200.0, 1200, 3600.0, 3600, 1, 1, 4.0, 1.0, 31, 3, 0.0968, 1, 1, 1.0, 1.5),
    C4: (2, 1, 0, 1.0, 1, 1, 1, 1, 1.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
         3600.0, 3600, 86400.0, 86400, 1, 0, 1.0, 0.0, 31, 2, 0.0645, 3, 1, 0.3333, 0.0),
}
STREET = {
    # C1 + C2: accepted 8, 7 not voided; dispatched 7, 4 on time; handled 9; due 9, 7 closed,
    # 4 on time; response 65400 / 8; handling 1895400 / 9; ratings 28 / 7, 5 satisfied; 4 / 93.
    S1: (10, 8, 1, 0.875, 7, 4, 7, 4, 0.5714, 9, 1, 0.1111, 9, 7, 4, 5, 0.7778, 0.4444, 1,
         8175.0, 43200, 210600.0, 1029600, 7, 5, 4.0, 0.7143, 93, 4, 0.043, 3, 2, 0.6667, 5.5),
    S2: (1, 1, 0, 1.0, 1, 0, 1, 0, 0.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
         1200.0, 1200, 3600.0, 3600, 1, 1, 4.0, 1.0, 31, 3, 0.0968, 1, 1, 1.0, 1.5),
    S3: (2, 1, 0, 1.0, 1, 1, 1, 1, 1.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
         3600.0, 3600, 86400.0, 86400, 1, 0, 1.0, 0.0, 31, 2, 0.0645, 3, 1, 0.3333, 0.0),
}
DISTRICT = {
    # G1..G4 and c16: handling sorted 1800 3600 86400×5 172800 259200 1029600, p90 = rank 9 of
    # 10; due 10, 5 on time; response 66600 / 9; ratings 32 / 8; patrol 7 / 124; 7 hours.
    D1: (11, 9, 1, 0.8889, 8, 4, 8, 4, 0.5, 10, 1, 0.1, 10, 8, 5, 5, 0.8, 0.5, 1,
         7400.0, 43200, 189900.0, 259200, 8, 6, 4.0, 0.75, 124, 7, 0.0565, 4, 3, 0.75, 7.0),
    D2: (2, 1, 0, 1.0, 1, 1, 1, 1, 1.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
         3600.0, 3600, 86400.0, 86400, 1, 0, 1.0, 0.0, 31, 2, 0.0645, 3, 1, 0.3333, 0.0),
}
WORKER = {
    # c1 c2 c5 c13 (c3 was voided before anyone got it; c4 was w6's own find).
    "w1": (3, 3, 0, 1.0, 3, 2, 3, 2, 0.6667, 3, 1, 0.3333, 3, 2, 1, 2, 0.6667, 0.3333, 0,
           16800.0, 43200, 172800.0, 259200, 3, 2, 4.0, 0.6667, 31, 2, 0.0645, 1, 1, 1.0, 0.0),
    # G1's task item was done by w1, not by w6, who holds a post there too.
    "w6": (1, 0, 0, None, 0, 0, 0, 0, None, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
           None, None, 1800.0, 1800, 0, 0, None, None, 31, 1, 0.0323, 1, 0, 0.0, 0.0),
    "w2": (2, 2, 0, 1.0, 2, 1, 2, 1, 0.5, 3, 0, 0.0, 2, 2, 1, 1, 1.0, 0.5, 1,
           2100.0, 3600, 400800.0, 1029600, 2, 1, 3.0, 0.5, 31, 2, 0.0645, 1, 0, 0.0, 0.0),
    "w3": (1, 1, 0, 1.0, 2, 1, 1, 1, 1.0, 2, 0, 0.0, 2, 2, 1, 1, 1.0, 0.5, 0,
           7200.0, 7200, 86400.0, 86400, 2, 2, 5.0, 1.0, 31, 0, 0.0, 1, 1, 1.0, 0.0),
    "w4": (1, 1, 0, 1.0, 1, 0, 1, 0, 0.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
           1200.0, 1200, 3600.0, 3600, 1, 1, 4.0, 1.0, 31, 3, 0.0968, 1, 1, 1.0, 1.5),
    "w5": (1, 1, 0, 1.0, 1, 1, 1, 1, 1.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
           3600.0, 3600, 86400.0, 86400, 1, 0, 1.0, 0.0, 31, 2, 0.0645, 3, 1, 0.3333, 0.0),
}
# fmt: on

# unit: (score, rank, February's rank, change). February: G1 due f1 c13, 1 on time, f1 rated
# 5 → 62.5; G2 c15 late, unrated → 0; G4 f3 late, rated 2 → 0; G5 f2 → 100; G3 nothing due.
RANKING = {
    "grid": [
        (G4, 100.0, 1, 3, 2),  # (3 × 1 + 1) / 4
        (G5, 75.0, 2, 1, -1),  # (3 × 1 + 0) / 4
        (G3, 62.5, 3, None, None),  # (3 × 0.5 + 1) / 4
        (G1, 54.17, 4, 2, -2),  # (3 × 0.5 + 0.6667) / 4
        (G2, 50.0, 5, 3, -2),  # (3 × 0.5 + 0.5) / 4
    ],
    "community": [
        (C3, 100.0, 1, 3, 2),
        (C4, 75.0, 2, 1, -1),
        (C1, 52.5, 3, 2, -1),  # (3 × 0.5 + 0.6) / 4; February (3 × 1/3 + 1) / 4 = 50
        (C2, 50.0, 4, None, None),  # (3 × 1/3 + 1) / 4
    ],
    "street": [
        (S2, 100.0, 1, 3, 2),
        (S3, 75.0, 2, 1, -1),
        (S1, 51.19, 3, 2, -1),  # (3 × 0.4444 + 0.7143) / 4
    ],
    "district": [
        (D2, 75.0, 1, 1, 0),
        (D1, 56.25, 2, 2, 0),  # (3 × 0.5 + 0.75) / 4; February (3 × 0.25 + 0.5) / 4
    ],
}
# Workers: w4 and w6 tie at 100 (w6: c4 due and closed on time, nothing rated), listed by id.
WORKER_RANKING = [
    ({"w4", "w6"}, 100.0, 1),
    ({"w5"}, 75.0, 3),
    ({"w3"}, 62.5, 4),
    ({"w2"}, 50.0, 5),
    ({"w1"}, 41.67, 6),  # (3 × 0.3333 + 0.6667) / 4
]
WORKER_BEFORE = {"w4": (3, 2), "w6": (None, None), "w5": (1, -2), "w3": (None, None)}
WORKER_BEFORE |= {"w2": (3, -2), "w1": (2, -4)}
EXPECTED = {"grid": GRID, "community": COMMUNITY, "street": STREET, "district": DISTRICT}


@pytest.fixture
async def city(scratch_database):
    people, cases = await build_city()
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        admin = await sign_in(client, ADMIN_PHONE)
        for level in ("worker", "grid", "community", "street", "district"):
            r = await client.put(
                f"/api/assessment/weights/{level}", json={"weights": WEIGHTS}, headers=admin
            )
            assert r.status_code == 200, r.text
        yield client, admin, people, cases


async def sign_in(client, phone: str) -> dict[str, str]:
    r = await client.post("/api/auth/sign-in", json={"phone": phone, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def assessed(client, headers, level: str, **params) -> dict:
    r = await client.get(
        "/api/assessment", params={"period": "2026-03", "level": level, **params}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


def figures_of(answer: dict) -> dict[str, tuple]:
    return {u["code"]: tuple(u["figures"][k] for k in KEYS) for u in answer["units"]}


@pytest.mark.parametrize("level", ["grid", "community", "street", "district"])
async def test_every_figure_of_every_area_unit(city, level):
    client, admin, _, _ = city
    answer = await assessed(client, admin, level)
    assert figures_of(answer) == EXPECTED[level]
    ranked = [(u["code"], u["score"], u["rank"], u["previous_rank"], u["rank_change"])
              for u in answer["units"]]  # fmt: skip
    assert [r[0] for r in ranked] == [r[0] for r in RANKING[level]]
    for got, want in zip(ranked, RANKING[level], strict=True):
        assert got[1] == pytest.approx(want[1], abs=0.011)
        assert got[2:] == want[2:]


async def test_every_figure_and_rank_of_every_worker(city):
    client, admin, people, _ = city
    answer = await assessed(client, admin, "worker")
    names = {str(i): n for n, i in people.items()}
    assert {names[c]: f for c, f in figures_of(answer).items()} == WORKER
    order = [(names[u["code"]], u["score"], u["rank"]) for u in answer["units"]]
    position = 0
    for who, score, rank in WORKER_RANKING:
        group = order[position : position + len(who)]
        position += len(who)
        assert {g[0] for g in group} == who
        assert all(g[1] == pytest.approx(score, abs=0.011) and g[2] == rank for g in group)
    tied = [u["code"] for u in answer["units"][:2]]
    assert tied == sorted(tied)  # equal scores are listed by code
    before = {names[u["code"]]: (u["previous_rank"], u["rank_change"]) for u in answer["units"]}
    assert before == WORKER_BEFORE


async def test_each_answer_states_its_formulas_and_period(city):
    client, admin, _, _ = city
    answer = await assessed(client, admin, "grid")
    assert (answer["period"], answer["previous_period"]) == ("2026-03", "2026-02")
    assert answer["start"] == "2026-03-01T00:00:00+08:00"
    assert answer["end"] == "2026-04-01T00:00:00+08:00"
    formulas = {i["key"]: i["formula"] for i in answer["indicators"]}
    assert [i["key"] for i in answer["indicators"]] == in_order(KEYS)
    assert formulas["close_rate"].startswith("结案率 = (closed − (1 − s) × self_closed) / (due")
    assert formulas["on_time_close_rate"].startswith("按期结案率 = (closed_on_time − (1 − s)")
    assert formulas["accurate_accept_rate"] == "准确立案率 = (accepted − voided) / accepted"
    assert formulas["rework_rate"] == "返工率 = reworked / handled"
    assert formulas["on_time_dispatch_rate"] == "按时派遣率 = dispatch_due_on_time / dispatch_due"
    weights = {i["key"]: i["weight"] for i in answer["indicators"] if i["weight"]}
    assert weights == WEIGHTS
    assert answer["omitted"] == []


async def test_an_area_ranks_its_own_units(city):
    client, admin, _, _ = city
    answer = await assessed(client, admin, "grid", area=D1)
    assert [(u["code"], u["rank"]) for u in answer["units"]] == [
        (G4, 1), (G3, 2), (G1, 3), (G2, 4)
    ]  # fmt: skip
    assert figures_of(answer) == {g: GRID[g] for g in (G1, G2, G3, G4)}


# The cases behind a figure: its own for a count, its denominator's for a rate.
DRILLS = [
    ("grid", G1, "due", {"c1", "c2", "c4", "c5"}),
    ("grid", G1, "close_rate", {"c1", "c2", "c4", "c5"}),
    ("grid", G1, "response_p90_s", {"c1", "c2", "c3", "c5"}),
    ("grid", G1, "handled", {"c1", "c2", "c4", "c13"}),
    ("grid", G2, "handling_mean_s", {"c6", "c7", "c15"}),
    ("grid", G3, "dispatched", {"c8", "c14"}),
    ("community", C1, "rated", {"c1", "c2", "c13", "c6", "c7"}),
    ("street", S1, "overdue", {"c2", "c5", "c7", "c14", "c16"}),
    ("community", C2, "received", {"c8", "c9", "c16"}),
    ("district", D1, "escalated", {"c7"}),
    ("district", D2, "received", {"c11", "c12"}),
]


@pytest.mark.parametrize(("level", "unit", "indicator", "names"), DRILLS)
async def test_a_figure_drills_down_to_its_cases(city, level, unit, indicator, names):
    client, admin, _, cases = city
    r = await client.get(
        "/api/assessment/cases",
        params={"period": "2026-03", "level": level, "unit": unit, "indicator": indicator},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert {r["id"] for r in body["rows"]} == {cases[n] for n in names}
    assert body["count"] == len(names)


async def test_drill_down_rows_carry_times_and_flags(city):
    client, admin, people, cases = city
    params = {"period": "2026-03", "level": "worker", "unit": str(people["w1"])}
    r = await client.get(
        "/api/assessment/cases", params=params | {"indicator": "on_time_close_rate"},
        headers=admin,
    )  # fmt: skip
    rows = {row["id"]: row for row in r.json()["rows"]}
    assert set(rows) == {cases["c1"], cases["c2"], cases["c5"]}
    assert [rows[cases[n]]["closed_on_time"] for n in ("c1", "c2", "c5")] == [True, False, False]
    c2 = rows[cases["c2"]]
    assert (c2["due_at"], c2["closed_at"]) == (
        "2026-03-07T12:00:00+00:00", "2026-03-09T02:00:00+00:00"
    )  # fmt: skip
    r = await client.get(
        "/api/assessment/cases", params=params | {"indicator": "handling_p90_s"}, headers=admin
    )
    rows = {row["id"]: row for row in r.json()["rows"]}
    assert set(rows) == {cases["c1"], cases["c2"], cases["c13"]}
    c2 = rows[cases["c2"]]
    assert (c2["accepted_at"], c2["dispatched_at"], c2["handled_at"]) == (
        "2026-03-04T12:00:00+00:00", "2026-03-06T00:00:00+00:00", "2026-03-08T00:00:00+00:00"
    )  # fmt: skip
    assert (c2["response_s"], c2["handling_s"], c2["reworked"]) == (43200, 172800, True)
    assert rows[cases["c13"]]["accepted_at"] is None  # accepted in February


async def test_a_long_list_comes_a_page_at_a_time(city):
    client, admin, _, cases = city
    params = {"period": "2026-03", "level": "district", "unit": D1, "indicator": "received"}
    pages = []
    for offset in (0, 4, 8, 12):
        r = await client.get(
            "/api/assessment/cases", params=params | {"limit": 4, "offset": offset}, headers=admin
        )
        assert r.status_code == 200, r.text
        assert r.json()["count"] == 11
        pages.append([row["id"] for row in r.json()["rows"]])
    assert [len(p) for p in pages] == [4, 4, 3, 0]
    received = {"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c16"}
    assert [i for page in pages for i in page] == sorted(cases[n] for n in received)


async def test_other_figures_drill_down_to_their_rows(city):
    client, admin, _, _ = city

    async def rows(level, unit, indicator):
        params = {"period": "2026-03", "level": level, "unit": unit, "indicator": indicator}
        r = await client.get("/api/assessment/cases", params=params, headers=admin)
        assert r.status_code == 200, r.text
        return r.json()["rows"]

    items = await rows("grid", G5, "task_completion")
    assert sorted((i["building_id"], i["status"]) for i in items) == [
        (1, "done"), (2, "open"), (3, "open")
    ]  # fmt: skip
    claims = await rows("street", S1, "volunteer_hours")
    assert sorted(c["hours"] for c in claims) == [2.0, 3.5]
    patrols = await rows("grid", G2, "patrolled_days")
    assert [(p["day"], p["date"]) for p in patrols] == [(4, "2026-03-05"), (30, "2026-03-31")]
    r = await client.get(
        "/api/assessment/cases",
        params={"period": "2026-03", "level": "grid", "unit": G1, "indicator": "volunteer_hours"},
        headers=admin,
    )
    assert (r.status_code, r.json()["code"]) == (422, "no_grid_figure")


async def test_exports_hold_the_api_figures(city):
    client, admin, _, _ = city
    r = await client.get("/api/assessment/export.xlsx", params={"period": "2026-03"}, headers=admin)
    assert r.status_code == 200, r.text
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "网格员 worker", "网格 grid", "社区 community", "街道 street", "区 district",
        "职能部门 department", "三岗等级 grade", "支部星级 stars", "指标说明 formulas",
    ]  # fmt: skip
    for level, sheet in zip(("grid", "community", "street", "district"), book.sheetnames[1:],
                            strict=False):  # fmt: skip
        answer = await assessed(client, admin, level)
        table = list(book[sheet].iter_rows(values_only=True))
        keys = [re.search(r"\((\w+)\)$", title)[1] for title in table[0]]
        got = {row[0]: dict(zip(keys, row, strict=True)) for row in table[1:]}
        assert list(got) == [u["code"] for u in answer["units"]]
        for unit in answer["units"]:
            row = got[unit["code"]]
            assert {k: row[k] for k in (*KEYS, *NEW_KEYS, *SOURCE_KEYS)} == unit["figures"]
            assert (row["rank"], row["score"], row["rank_change"]) == (
                unit["rank"], unit["score"], unit["rank_change"]
            )  # fmt: skip
    notes = list(book["指标说明 formulas"].iter_rows(values_only=True))
    close_rate = notes[in_order(KEYS).index("close_rate") + 1]
    assert close_rate[:2] == ("close_rate", "结案率") and close_rate[2].startswith("结案率 = (")

    r = await client.get(
        "/api/assessment/export.csv", params={"period": "2026-03", "level": "street"},
        headers=admin,
    )  # fmt: skip
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    keys = [re.search(r"\((\w+)\)$", title)[1] for title in rows[0]]
    first = dict(zip(keys, rows[1], strict=True))
    assert (first["code"], first["rank"], first["close_rate"]) == (S2, "1", "1.0")
    s1 = dict(zip(keys, rows[3], strict=True))
    assert (s1["code"], s1["on_time_dispatch_rate"], s1["volunteer_hours"]) == (S1, "0.5714", "5.5")


async def test_weights_are_the_city_admins(city, scratch_database):
    client, admin, _, _ = city
    resident = await sign_in(client, RESIDENT_PHONE)
    r = await client.get("/api/assessment", params={"period": "2026-03", "level": "grid"},
                         headers=resident)  # fmt: skip
    assert r.status_code == 403
    r = await client.put("/api/assessment/weights/grid", json={"weights": {"close_rate": 1}},
                         headers=resident)  # fmt: skip
    assert r.status_code == 403
    for body, code in [
        ({"weights": {"received": 1}}, "invalid_indicator"),
        ({"weights": {"close_rate": 0}}, "invalid_weight"),
    ]:
        r = await client.put("/api/assessment/weights/grid", json=body, headers=admin)
        assert (r.status_code, r.json()["code"]) == (422, code)
    r = await client.put("/api/assessment/weights/planet", json={"weights": {}}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_level")
    r = await client.get("/api/assessment/weights/grid", headers=admin)
    assert (r.json()["weights"], r.json()["default"]) == (WEIGHTS, False)

    # Only 结案率 now: G2 and G3 closed all that was due (1.0), G1 3 of 4.
    r = await client.put("/api/assessment/weights/grid", json={"weights": {"close_rate": 1}},
                         headers=admin)  # fmt: skip
    assert r.status_code == 200
    answer = await assessed(client, admin, "grid")
    assert [(u["code"], u["score"], u["rank"]) for u in answer["units"]] == [
        (G2, 100.0, 1), (G3, 100.0, 1), (G4, 100.0, 1), (G5, 100.0, 1), (G1, 75.0, 5)
    ]  # fmt: skip
    r = await client.put("/api/assessment/weights/grid", json={"weights": {}}, headers=admin)
    assert r.json()["default"] is True
    use_engine(scratch_database.engine)  # the app's pool lives on the client's event loop
    changes = await Event.select(Event.type, Event.scope).where(Event.type == "assessment.weights")
    assert len(changes) == 7 and {c["scope"] for c in changes} == {"150300"}


CASE_KEYS = KEYS[: KEYS.index("patrol_days")]
# fmt: off
# By the assignee's grade: 其他-5 is w1 + w2, 其他-8 w3 + w5, 副职-6 w4 (w6 has no grade).
# 其他-5: response 3600 43200 3600 600 3600 = 54600 / 5; handling 86400 172800 259200 86400
# 86400 1029600 = 1720800 / 6; ratings 5 3 4 4 2. 其他-8: ratings 5 5 1 = 11 / 3.
GRADE = {
    "其他-5": ((5, 5, 0, 1.0, 5, 3, 5, 3, 0.6, 6, 1, 0.1667, 5, 4, 2, 3, 0.8, 0.4, 1,
               10920.0, 43200, 286800.0, 1029600, 5, 3, 3.6, 0.6), 45.0, 3, 2, -1),
    "其他-8": ((2, 2, 0, 1.0, 3, 2, 2, 2, 1.0, 3, 0, 0.0, 3, 3, 2, 1, 1.0, 0.6667, 0,
               5400.0, 7200, 86400.0, 86400, 3, 2, 3.67, 0.6667), 66.67, 2, 1, -1),
    "副职-6": ((1, 1, 0, 1.0, 1, 0, 1, 0, 0.0, 1, 0, 0.0, 1, 1, 1, 0, 1.0, 1.0, 0,
               1200.0, 1200, 3600.0, 3600, 1, 1, 4.0, 1.0), 100.0, 1, 3, 2),
}
# By the stars of the grid's branch in March: 5 is G1 + G2 (as C1), 3 is G3 + G4 (G4's March
# stars win over its year's). February: 5 is G2 + G4 (score 0), 4 is G5 (100), 3 is G3 (none).
STARS = {
    "3": ((3, 2, 0, 1.0, 3, 1, 2, 1, 0.5, 3, 0, 0.0, 3, 3, 2, 1, 1.0, 0.6667, 0,
           4200.0, 7200, 58800.0, 86400, 3, 3, 4.67, 1.0), 75.0, 1, None, None),
    "5": (COMMUNITY[C1][: len(CASE_KEYS)], 52.5, 2, 2, 0),
}
# fmt: on


@pytest.mark.parametrize(("level", "expected"), [("grade", GRADE), ("stars", STARS)])
async def test_case_figures_by_grade_and_by_branch_stars(city, level, expected):
    client, admin, _, _ = city
    answer = await assessed(client, admin, level)
    assert [i["key"] for i in answer["indicators"]] == in_order(CASE_KEYS)
    assert {o["source"] for o in answer["omitted"]} == {"patrol", "tasks", "hours"}
    units = {u["code"]: u for u in answer["units"]}
    for code, (figures, score, rank, before, change) in expected.items():
        unit = units.pop(code)
        assert tuple(unit["figures"][k] for k in CASE_KEYS) == figures
        assert unit["score"] == pytest.approx(score, abs=0.011)
        assert (unit["rank"], unit["previous_rank"], unit["rank_change"]) == (rank, before, change)
    assert [u["code"] for u in answer["units"][: len(expected)]] == list(
        sorted(expected, key=lambda c: expected[c][2])
    )
    # Stars nobody holds this month: listed, nothing counted, no rank.
    assert all(u["rank"] is None and u["figures"]["received"] == 0 for u in units.values())
    assert set(units) == ({"1", "2", "4"} if level == "stars" else set())
    r = await client.get(
        "/api/assessment/cases",
        params={"period": "2026-03", "level": level, "unit": "3" if level == "stars" else
                "副职-6", "indicator": "received"},
        headers=admin,
    )  # fmt: skip
    assert r.json()["count"] == (3 if level == "stars" else 1)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"period": "2026-13", "level": "grid"}, "invalid_period"),
        ({"period": "2026-Q5", "level": "grid"}, "invalid_period"),
        ({"period": "2026-03", "level": "planet"}, "invalid_level"),
        ({"period": "2026-03", "level": "grid", "area": "15-03"}, "invalid_area"),
        ({"period": "2026-03", "level": "stars", "area": D1}, "invalid_area"),
    ],
)
async def test_bad_questions_get_4xx(city, params, code):
    client, admin, _, _ = city
    r = await client.get("/api/assessment", params=params, headers=admin)
    assert (r.status_code, r.json()["code"]) == (422, code)


async def test_the_received_are_counted_by_the_door_they_came_in_by(city, scratch_database):
    client, admin, _, cases = city
    # G1 received c1 c2 c3 c4 c5, G2 c6 c7, G3 c8 c9: some of them by other doors.
    doors = {"c4": "patrol", "c6": "hotline", "c8": "open311", "c9": "anonymous"}
    app_engine = Case._meta.db
    use_engine(scratch_database.engine)  # the app's pool lives on the client's event loop
    for name, door in doors.items():
        await Case.update({Case.source: door}).where(Case.id == cases[name])
    use_engine(app_engine)
    grids = {u["code"]: u["figures"] for u in (await assessed(client, admin, "grid"))["units"]}
    by_door = {g: {s: grids[g][f"received_{s}"] for s in SOURCES if grids[g][f"received_{s}"]}
               for g in (G1, G2, G3)}  # fmt: skip
    assert by_door == {
        G1: {"app": 4, "patrol": 1},
        G2: {"app": 1, "hotline": 1},
        G3: {"open311": 1, "anonymous": 1},
    }
    district = (await assessed(client, admin, "district"))["units"]
    for unit in district:
        figures = unit["figures"]
        assert sum(figures[k] for k in SOURCE_KEYS) == figures["received"]


@pytest.mark.parametrize(
    "wanted",
    [
        ["rework_rate", "accurate_accept_rate", "on_time_close_rate"],  # the default weights'
        ["on_time_dispatch_rate", "dispatched", "dispatched_on_time"],
        ["handling_mean_s", "handling_p90_s", "self_handled"],
        ["response_mean_s", "verified", "escalated", "voided"],
    ],
)
async def test_a_period_ranked_by_a_few_figures_reads_them_alike(city, scratch_database, wanted):
    # The previous period is read for its weighted figures only, from the events of their
    # actions only: each of those figures as when every figure is read.
    use_engine(scratch_database.engine)  # the app's pool lives on the client's event loop
    tz = ZoneInfo(scratch_database.settings.timezone)
    now = datetime(2026, 4, 15, tzinfo=UTC)
    levels = queries.WEIGHTED_LEVELS
    for label in ("2026-02", "2026-03"):
        period = parse_period(label)
        every = await queries.sums(period, levels, tz, now)
        few = await queries.sums(period, levels, tz, now, wanted)
        for level in levels:
            assert every[level].keys() >= few[level].keys()
            for unit, sums in every[level].items():
                whole = derive(queries.zero_filled(level, sums))
                part = derive(queries.zero_filled(level, few[level].get(unit)))
                assert {k: part.get(k) for k in wanted} == {k: whole.get(k) for k in wanted}, (
                    label,
                    level,
                    unit,
                )


MIGRATIONS = "backend.cases.piccolo_migrations"


async def test_the_migration_fills_each_case_s_first_actions_from_its_events(
    city, scratch_database
):
    # The rows written with their first actions (as the workflow keeps them) and their events:
    # the columns emptied, the migration's statement fills them back from the events alone.
    use_engine(scratch_database.engine)  # the app's pool lives on the client's event loop
    fill = importlib.import_module(f"{MIGRATIONS}.cases_2026_12_08t05_00_01_000000")
    firsts = [
        getattr(Case, f"first_{name}_{part}")
        for name in ("accepted", "handled", "verified", "escalated")
        for part in ("at", "by")
    ]
    kept = [*firsts, Case.dispatched_at, Case.dispatched_by, Case.repeated_actions]
    written = await Case.select(Case.id, *kept).order_by(Case.id)
    assert all(any(row[c._meta.name] for row in written) for c in kept[:-1])
    # One case accepted a second time, later: its first stays, and it is marked.
    again = next(row for row in written if row["first_accepted_at"] is not None)
    last = (await Event.select(Event.id).order_by(Event.id, ascending=False).first())["id"]
    await Event.insert(
        Event(
            id=last + 1,
            at=again["first_accepted_at"] + timedelta(days=3),
            type="case.accept",
            subject=f"case:{again['id']}",
            scope="150300",
            actor=again["first_accepted_by"],
            payload="{}",
        )
    )
    again["repeated_actions"] = True
    emptied = {column: None for column in [*firsts, Case.dispatched_at, Case.dispatched_by]}
    await Case.update({**emptied, Case.repeated_actions: False}, force=True)
    await Case.raw(fill._fill())
    assert await Case.select(Case.id, *kept).order_by(Case.id) == written
