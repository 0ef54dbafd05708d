"""A small city written by hand for the assessment tests: two districts, three streets, four
communities, five grids, six workers; eighteen cases with every event at a chosen time, their
ratings, broadcast-task items, volunteer hours and patrol track points. The expected figures
(test_assessment.py) were worked out by hand from this page, not with the code under test.

Everything happens in March 2026 (the period assessed) and February (the one before it), in
Beijing time. Grids:

    G1 15030200100101  community C1 150302001001  street S1 150302001  district D1 150302
    G2 15030200100102  C1, S1, D1
    G3 15030200100201  community C2 150302001002, S1, D1
    G4 15030200200101  community C3 150302002001, street S2 150302002, D1
    G5 15030300100101  community C4 150303001001, street S3 150303001, district D2 150303
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import shapely

from backend.areas.tables import Area
from backend.auth.passwords import hash_password
from backend.cases.tables import Case
from backend.core.areas import scope_prefix
from backend.core.spatial import footprint_values
from backend.demo import clear_city
from backend.events.tables import Event, EventClock
from backend.grids.tables import Grid, GridPost
from backend.party.tables import BranchStar, CommunityNeed, NeedClaim, PartyMember, WorkerGrade
from backend.people.tables import Person
from backend.positions.tables import TrackPoint
from backend.tasks.tables import Broadcast, TaskItem

BEIJING = timezone(timedelta(hours=8))
PASSWORD = "assess-2026"
ADMIN_PHONE, RESIDENT_PHONE = "13700000001", "13700000002"

G1, G2, G3, G4, G5 = (
    "15030200100101",
    "15030200100102",
    "15030200100201",
    "15030200200101",
    "15030300100101",
)
GRIDS = (G1, G2, G3, G4, G5)
C1, C2, C3, C4 = "150302001001", "150302001002", "150302002001", "150303001001"
S1, S2, S3 = "150302001", "150302002", "150303001"
D1, D2 = "150302", "150303"
AREAS = [
    ("150300", "乌海市", "city", None),
    (D1, "海勃湾区", "district", "150300"),
    (D2, "海南区", "district", "150300"),
    (S1, "新华街道", "street", D1),
    (S2, "新华西街道", "street", D1),
    (S3, "西卓子山街道", "street", D2),
    (C1, "团结社区", "community", S1),
    (C2, "幸福社区", "community", S1),
    (C3, "林荫社区", "community", S2),
    (C4, "巴音社区", "community", S3),
]
# Who holds which post: the six workers of the assessment.
WORKERS = {
    "w1": (G1, "fulltime"),
    "w6": (G1, "parttime"),
    "w2": (G2, "fulltime"),
    "w3": (G3, "fulltime"),
    "w4": (G4, "fulltime"),
    "w5": (G5, "fulltime"),
}


def at(text: str) -> datetime:
    """``MM-DD HH:MM`` of 2026 in Beijing time."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING)


def box(code: str) -> shapely.Polygon:
    """Grids side by side, 0.01° square, 0.02° apart; an area's box covers its grids."""
    spots = [i for i, g in enumerate(GRIDS) if g.startswith(scope_prefix(code))]
    return shapely.box(106.80 + 0.02 * min(spots), 39.60, 106.81 + 0.02 * max(spots), 39.61)


def inside(place: str) -> tuple[float, float]:
    """The middle of a grid; for an area, a point on its edge, between grids."""
    if place in GRIDS:
        return 106.805 + 0.02 * GRIDS.index(place), 39.605
    return box(place).bounds[0], 39.6


# Each case: where, whose, its status, due and closing times and rating as its row holds them,
# and its events ("type MM-DD HH:MM", …); kind request and priority normal unless said.
# fmt: off
CASES: dict[str, dict[str, Any]] = {
    "c1": dict(grid=G1, assignee="w1", status="closed", due="03-05 10:00", closed="03-03 15:00",
               rating=5, events="submit 03-02 09:00, accept 03-02 10:00, dispatch 03-02 11:00, "
               "handle 03-03 11:00, verify 03-03 14:00, close 03-03 15:00, rate 03-03 18:00"),
    "c2": dict(grid=G1, assignee="w1", status="closed", due="03-07 20:00", closed="03-09 10:00",
               rating=3, rework=1, events="submit 03-04 08:00, accept 03-04 20:00, "
               "dispatch 03-06 08:00, handle 03-08 08:00, rework 03-08 12:00, handle 03-09 08:00, "
               "verify 03-09 09:00, close 03-09 10:00, rate 03-09 12:00"),
    "c3": dict(grid=G1, assignee=None, status="voided", due="03-13 09:30",
               events="submit 03-10 09:00, accept 03-10 09:30, void 03-10 12:00"),
    "c4": dict(grid=G1, assignee="w6", kind="incident", status="closed", due="03-13 10:00",
               closed="03-12 12:00", events="submit 03-12 10:00, self_handle 03-12 10:30, "
               "verify 03-12 11:00, close 03-12 12:00"),
    "c5": dict(grid=G1, assignee="w1", status="dispatched", due="03-31 11:00",
               events="submit 03-28 10:00, accept 03-28 11:00, dispatch 03-28 12:00"),
    "c6": dict(grid=G2, assignee="w2", status="closed", due="03-08 09:10", closed="03-06 12:00",
               rating=4, events="submit 03-05 09:00, accept 03-05 09:10, dispatch 03-05 09:20, "
               "handle 03-06 09:20, verify 03-06 11:00, close 03-06 12:00, rate 03-06 13:00"),
    # Escalated to the community, which dispatched it back to the grid's worker.
    "c7": dict(grid=G2, owner=C1, assignee="w2", status="closed", due="03-24 10:00",
               closed="03-25 10:00", rating=2, events="submit 03-20 09:00, accept 03-20 10:00, "
               "escalate 03-21 10:00, dispatch 03-22 10:00, handle 03-23 10:00, "
               "verify 03-24 11:00, close 03-25 10:00, rate 03-25 12:00"),
    "c8": dict(grid=G3, assignee="w3", status="closed", due="03-06 12:00", closed="03-04 18:00",
               rating=5, events="submit 03-03 10:00, accept 03-03 12:00, dispatch 03-03 13:00, "
               "handle 03-04 13:00, verify 03-04 17:00, close 03-04 18:00, rate 03-04 20:00"),
    "c9": dict(grid=G3, assignee=None, status="rejected", due="03-16 10:00",
               events="submit 03-15 10:00, reject 03-15 11:00"),
    "c10": dict(grid=G4, assignee="w4", priority="urgent", status="closed", due="03-07 12:20",
                closed="03-07 11:30", rating=4, events="submit 03-07 08:00, accept 03-07 08:20, "
                "dispatch 03-07 10:00, handle 03-07 11:00, verify 03-07 11:20, "
                "close 03-07 11:30, rate 03-07 12:00"),
    "c11": dict(grid=G5, assignee="w5", status="closed", due="03-12 10:00", closed="03-10 12:00",
                rating=1, events="submit 03-09 09:00, accept 03-09 10:00, dispatch 03-09 11:00, "
                "handle 03-10 11:00, verify 03-10 11:30, close 03-10 12:00, rate 03-10 15:00"),
    "c12": dict(grid=G5, assignee=None, status="submitted", due="03-31 09:00",
                events="submit 03-30 09:00"),
    # Across the boundary: submitted in February, worked on in March.
    "c13": dict(grid=G1, assignee="w1", status="closed", due="02-28 10:00", closed="03-02 10:00",
                rating=4, events="submit 02-25 09:00, accept 02-25 10:00, dispatch 02-26 10:00, "
                "handle 03-01 10:00, verify 03-02 09:00, close 03-02 10:00, rate 03-02 11:00"),
    "c14": dict(grid=G3, assignee="w3", status="closed", due="03-02 10:00", closed="03-02 12:00",
                rating=5, events="submit 02-27 09:00, accept 02-27 10:00, dispatch 03-01 09:00, "
                "handle 03-02 09:00, verify 03-02 11:00, close 03-02 12:00, rate 03-02 13:00"),
    # Dispatched in February, dispatched again (改派) in March: its first dispatch is February's.
    "c15": dict(grid=G2, assignee="w2", status="closed", due="02-23 10:00", closed="03-05 09:00",
                events="submit 02-20 09:00, accept 02-20 10:00, dispatch 02-20 11:00, "
                "dispatch 03-03 09:00, handle 03-04 09:00, verify 03-05 08:00, close 03-05 09:00"),
    # Reported in a gap between grids: owned by, and counted at, community C2 and above.
    "c16": dict(grid=None, owner=C2, assignee=None, status="accepted", due="03-21 10:30",
                events="submit 03-18 10:00, accept 03-18 10:30"),
    "f1": dict(grid=G1, assignee="w1", status="closed", due="02-13 10:00", closed="02-11 12:00",
               rating=5, events="submit 02-10 09:00, accept 02-10 10:00, dispatch 02-10 11:00, "
               "handle 02-11 11:00, verify 02-11 11:30, close 02-11 12:00, rate 02-11 13:00"),
    "f2": dict(grid=G5, assignee="w5", status="closed", due="02-15 10:00", closed="02-13 12:00",
               rating=5, events="submit 02-12 09:00, accept 02-12 10:00, dispatch 02-12 11:00, "
               "handle 02-13 11:00, close 02-13 12:00, rate 02-13 13:00"),
    "f3": dict(grid=G4, assignee="w4", status="closed", due="02-18 10:00", closed="02-20 12:00",
               rating=2, events="submit 02-15 09:00, accept 02-15 10:00, dispatch 02-16 11:00, "
               "handle 02-20 11:00, close 02-20 12:00, rate 02-20 13:00"),
}
# fmt: on


def events_of(case: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, "MM-DD HH:MM") of a case's events, in order."""
    return [tuple(e.strip().split(" ", 1)) for e in case["events"].split(",")]


# (grid, worker, local time): w3's one point lies in G4, where w3 holds no post; w5's first
# and last lie outside March; w2's last is one minute before April, still March's 31st.
TRACK = [
    (G1, "w1", "03-02 10:00"),
    (G1, "w1", "03-02 15:00"),
    (G1, "w1", "03-03 09:00"),
    (G1, "w6", "03-03 10:00"),
    (G2, "w2", "03-05 10:00"),
    (G2, "w2", "03-31 23:59"),
    (G4, "w3", "03-10 10:00"),
    (G4, "w4", "03-05 10:00"),
    (G4, "w4", "03-06 10:00"),
    (G4, "w4", "03-07 10:00"),
    (G5, "w5", "02-28 23:30"),
    (G5, "w5", "03-09 10:00"),
    (G5, "w5", "03-10 10:00"),
    (G5, "w5", "04-01 00:30"),
]
# broadcast: (area, created, [(grid, building, status)])
BROADCASTS = [
    (
        D1,
        "03-10 09:00",
        [(G1, None, "done"), (G2, None, "open"), (G3, None, "done"), (G4, None, "done")],
    ),
    (G5, "03-15 09:00", [(G5, 1, "done"), (G5, 2, "open"), (G5, 3, "open")]),
    (G5, "02-10 09:00", [(G5, None, "done")]),
]
# members (person, home community); needs (community, start); claims (need, member, status, h)
MEMBERS = {"m1": ("r1", C1), "m2": ("r2", C2), "m3": ("w4", C3)}
NEEDS = {"n1": (C1, "03-05 09:00"), "n2": (C2, "02-20 09:00"), "n3": (C3, "03-25 09:00")}
CLAIMS = [
    ("n1", "m1", "confirmed", 3.5),
    ("n1", "m2", "confirmed", 2.0),
    ("n2", "m2", "confirmed", 4.0),
    ("n3", "m3", "confirmed", 1.5),
    ("n3", "m1", "reported", 5.0),
]

# 三岗十八级 of five workers (w6 has none); stars of the grids' branches: G1 for March, G2 for
# the first quarter, G3 for the year, G4 for March (3) and for the year (5: March's wins),
# G5 for February only.
GRADES = {"w1": ("其他", 5), "w2": ("其他", 5), "w3": ("其他", 8), "w4": ("副职", 6)}
GRADES |= {"w5": ("其他", 8)}
STARS = [
    (G1, "2026-03", 5),
    (G2, "2026-Q1", 5),
    (G3, "2026", 3),
    (G4, "2026-03", 3),
    (G4, "2026", 5),
    (G5, "2026-02", 4),
]


async def _area_rows() -> None:
    ids: dict[str, int] = {}
    for code, name, level, parent in AREAS:
        row = {"code": code, "name": name, "level": level, "parent": ids.get(parent or "")}
        row |= footprint_values([box(code)])[0] | {"updated_at": datetime.now(UTC)}
        ids[code] = (await Area.insert(Area(**row)).returning(Area.id))[0]["id"]
    for i, code in enumerate(GRIDS):
        row = {"code": code, "name": f"网格{i + 1}", "community": ids[code[:12]]}
        row |= {"kind": "community", "updated_at": datetime.now(UTC)}
        row |= footprint_values([box(code)])[0]
        await Grid.insert(Grid(**row))


async def _people() -> dict[str, int]:
    hashed = hash_password(PASSWORD)
    areas = {r["code"]: r["id"] for r in await Area.select(Area.code, Area.id)}
    grids = {r["code"]: r["id"] for r in await Grid.select(Grid.code, Grid.id)}
    people = {
        "admin": ("city_admin", "150300", ADMIN_PHONE),
        "r1": ("resident", C1, RESIDENT_PHONE),
        "r2": ("resident", C2, "13700000003"),
    } | {
        w: ("grid_worker", g[:12], f"1370000001{i}")
        for i, (w, (g, _)) in enumerate(WORKERS.items())
    }
    ids = {}
    for name, (role, area, phone) in people.items():
        row = Person(
            name=name,
            phone=phone,
            role=role,
            area=areas[area],
            password_hash=hashed,
            active=True,
            created_at=datetime.now(UTC),
        )
        ids[name] = (await Person.insert(row).returning(Person.id))[0]["id"]
    for name, (grid, post) in WORKERS.items():
        await GridPost.insert(
            GridPost(grid=grids[grid], person=ids[name], post=post, since=at("01-01 00:00"))
        )
    return ids


# The category's dispatch limit (0101's dispatch_hours): what a case must be dispatched within
# after acceptance (wall clock here: the row is written, not computed).
DISPATCH_LIMIT = {"normal": timedelta(hours=4), "urgent": timedelta(minutes=30)}


def _first(events_here: list[tuple[str, str]], *kinds: str) -> datetime | None:
    return next((at(t) for k, t in events_here if k in kinds), None)


def _firsts(events_here: list[tuple[str, str]], actor: int | None) -> dict[str, Any]:
    """The row's first actions (backend/cases/firsts.py), as the workflow keeps them."""
    row: dict[str, Any] = {}
    for name, kinds in (
        ("accepted", ("accept",)),
        ("handled", ("handle", "self_handle")),
        ("verified", ("verify",)),
        ("escalated", ("escalate",)),
    ):
        first = _first(events_here, *kinds)
        row[f"first_{name}_at"] = first
        row[f"first_{name}_by"] = None if first is None else actor
    kinds = [k for k, _ in events_here]
    row["repeated_actions"] = any(kinds.count(k) > 1 for k in ("accept", "verify", "escalate"))
    return row


async def _cases(people: dict[str, int]) -> dict[str, int]:
    ids, events = {}, []
    for name, c in CASES.items():
        events_here = events_of(c)
        created = at(events_here[0][1])
        accepted = _first(events_here, "accept")
        limit = DISPATCH_LIMIT[c.get("priority", "normal")]
        dispatched = _first(events_here, "dispatch")
        # Every action by the case's assignee: the worker figures credit whoever acted, and
        # here that is the assignee (test_assessment_scenario.py credits separate people).
        actor = people.get(c["assignee"] or "")
        grid = c["grid"]
        place = grid or c["owner"]  # the areas from the city down to the case's own
        row = Case(
            client_id=uuid.uuid4(),
            kind=c.get("kind", "request"),
            category="0101",
            description=name,
            lon=inside(place)[0],
            lat=inside(place)[1],
            crs="wgs84",
            grid_code=grid,
            area_codes=f"150300,{place[:6]},{place[:9]},{place[:12]}",
            owner_code=c.get("owner", grid),
            priority=c.get("priority", "normal"),
            status=c["status"],
            assignee=people.get(c["assignee"] or ""),
            due_at=at(c["due"]),
            rework_count=c.get("rework", 0),
            escalations=sum(1 for e in events_here if e[0] == "escalate"),
            closed_at=at(c["closed"]) if "closed" in c else None,
            rating=c.get("rating"),
            dispatch_due_at=None if accepted is None else accepted + limit,
            dispatched_at=dispatched,
            dispatched_by=None if dispatched is None else actor,
            version=len(events_here),
            created_at=created,
            updated_at=at(events_here[-1][1]),
            **_firsts(events_here, actor),
        )
        ids[name] = (await Case.insert(row).returning(Case.id))[0]["id"]
        events += [(at(t), kind, ids[name], c.get("owner", grid), actor) for kind, t in events_here]
    last = (await EventClock.select(EventClock.last).first())["last"]
    await Event.insert(
        *(
            Event(
                id=last + i,
                at=moment,
                type=f"case.{kind}",
                subject=f"case:{case}",
                scope=scope,
                actor=actor,
                payload=json.dumps({"type": kind}),
            )
            for i, (moment, kind, case, scope, actor) in enumerate(
                sorted(events, key=lambda e: e[:4]), start=1
            )
        )
    )
    await EventClock.update({EventClock.last: last + len(events)}, force=True)
    return ids


async def _tasks(people: dict[str, int]) -> None:
    for area, created, items in BROADCASTS:
        row = Broadcast(
            client_id=uuid.uuid4(),
            area_code=area,
            target="grid",
            title="入户排查",
            description="",
            created_by=people["admin"],
            created_at=at(created),
        )
        broadcast = (await Broadcast.insert(row).returning(Broadcast.id))[0]["id"]
        for grid, building, status in items:
            done = status == "done"
            await TaskItem.insert(
                TaskItem(
                    broadcast=broadcast,
                    grid_code=grid,
                    building_id=building,
                    status=status,
                    done_by=people[next(w for w, (g, _) in WORKERS.items() if g == grid)]
                    if done
                    else None,
                    done_at=at(created) + timedelta(days=1) if done else None,
                )
            )


async def _hours(people: dict[str, int]) -> None:
    members, needs = {}, {}
    for name, (person, community) in MEMBERS.items():
        row = PartyMember(
            person=people[person],
            work_unit="乌海市某单位",
            home_community=community,
            registered_at=at("01-05 09:00"),
            updated_at=at("01-05 09:00"),
        )
        members[name] = (await PartyMember.insert(row).returning(PartyMember.id))[0]["id"]
    for name, (community, starts) in NEEDS.items():
        row = CommunityNeed(
            client_id=uuid.uuid4(),
            community_code=community,
            kind="volunteer",
            title=name,
            description="",
            place="社区",
            lon=106.8,
            lat=39.6,
            starts_at=at(starts),
            ends_at=at(starts) + timedelta(hours=4),
            capacity=5,
            created_by=people["admin"],
            created_at=at("01-10 09:00"),
        )
        needs[name] = (await CommunityNeed.insert(row).returning(CommunityNeed.id))[0]["id"]
    for need, member, status, hours in CLAIMS:
        starts = at(NEEDS[need][1])
        await NeedClaim.insert(
            NeedClaim(
                need=needs[need],
                member=members[member],
                status=status,
                hours=hours,
                claimed_at=starts - timedelta(days=1),
                reported_at=starts + timedelta(hours=5),
                confirmed_by=people["admin"] if status == "confirmed" else None,
                confirmed_at=starts + timedelta(days=1) if status == "confirmed" else None,
            )
        )


async def _grades_and_stars(people: dict[str, int]) -> None:
    for worker, (post, grade) in GRADES.items():
        await WorkerGrade.insert(
            WorkerGrade(
                person=people[worker],
                post=post,
                grade=grade,
                set_by=people["admin"],
                set_at=at("01-02 09:00"),
            )
        )
    for grid, period, stars in STARS:
        await BranchStar.insert(
            BranchStar(
                area_code=grid,
                period=period,
                stars=stars,
                set_by=people["admin"],
                set_at=at("01-02 09:00"),
            )
        )


async def _track(people: dict[str, int]) -> None:
    for grid, worker, moment in TRACK:
        lon, lat = inside(grid)
        await TrackPoint.insert(
            TrackPoint(person=people[worker], at=at(moment), lon=lon, lat=lat, accuracy=10.0)
        )


async def build_city() -> tuple[dict[str, int], dict[str, int]]:
    """Replace the demo city by this one; (people's ids, cases' ids) by their names here."""
    await clear_city()
    await _area_rows()
    people = await _people()
    cases = await _cases(people)
    await _tasks(people)
    await _hours(people)
    await _track(people)
    await _grades_and_stars(people)
    return people, cases
