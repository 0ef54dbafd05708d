"""People of the demo city, the grid posts they hold, and the fixed demo accounts.

Staff are hired for every area and grid, and residents for every community; the demo
accounts are the first of their kind where they work, so they keep their fixed phones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import demo_names as names

# Fixed phones, one per role, so the demo can be logged into (the CLI prints them).
DEMO_GRID_CODE = "15030200100101"
DEMO_ACCOUNTS: dict[str, str] = {
    "city_admin": "13900000001",
    "district_admin": "13900000002",
    "street_staff": "13900000003",
    "community_staff": "13900000004",
    "grid_leader": "13900000005",
    "grid_police": "13900000006",
    "grid_worker": "13900000007",
    "department": "13900000008",
    "resident": "13900000009",
    "hotline_operator": "13900000020",
}
# The department of the demo's department officer: 海勃湾区's 城管 bureau (backend/cases/
# departments.json), to whom a street dispatches what its grids cannot handle.
DEMO_DEPARTMENT = "cg"

AREA_ROLES = {
    "city": ("city_admin", 3),
    "district": ("district_admin", 2),
    "street": ("street_staff", 3),
}
GRID_ROLES = {"leader": "grid_leader", "police": "grid_police", "fulltime": "grid_worker"}
EMPTIED_POSTS = ("police", "fulltime", "leader", "parttime")
RESIDENTS_PER_COMMUNITY = 20
# Where the area-level demo accounts work; the others work in (or live by) DEMO_GRID_CODE.
DEMO_AREAS = {
    "city_admin": names.CITY_CODE,
    "district_admin": DEMO_GRID_CODE[:6],
    "street_staff": DEMO_GRID_CODE[:9],
    "department": DEMO_GRID_CODE[:6],
    "hotline_operator": names.CITY_CODE,  # the city's 12345 centre
}


def _phones(n: int, rng: np.random.Generator) -> np.ndarray:
    """n unique mobile numbers, none in the 1390000xxxx block kept for demo accounts."""
    prefixes = np.r_[130:140, 150:154, 155:160, 180:190]
    numbers = rng.choice(prefixes, 2 * n + 100) * 10**8 + rng.integers(0, 10**8, 2 * n + 100)
    numbers = pd.unique(numbers[(numbers < 139_0000_0000) | (numbers >= 139_0010_0000)])
    return numbers[:n].astype(str)


class _Roster:
    """People in hiring order (demo accounts keep their fixed phones) and the posts they hold."""

    def __init__(self) -> None:
        self.people: list[tuple[str, str, str | None]] = []
        self.posts: list[tuple[str, int, str]] = []

    def hire(self, role: str, area: str, demo: bool = False) -> int:
        self.people.append((role, area, DEMO_ACCOUNTS[role] if demo else None))
        return len(self.people) - 1

    def tables(self, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
        role, area, phone = (
            np.array(column, dtype=object) for column in zip(*self.people, strict=True)
        )
        free = pd.isna(phone)
        phone[free] = _phones(int(free.sum()), rng)
        people = pd.DataFrame(
            {
                "phone": phone.astype(str),
                "name": names.person_names(len(role), rng),
                "role": role.astype(str),
                "area_code": area.astype(str),
            }
        )
        grid, who, post = zip(*self.posts, strict=True)
        posts = pd.DataFrame(
            {"grid_code": grid, "phone": people["phone"].to_numpy()[list(who)], "post": post}
        )
        return people, posts


def _staff_grid(
    roster: _Roster, code: str, missing: str | None, secretary: int, rng: np.random.Generator
) -> None:
    """Fill the posts of one grid, all but the `missing` one; staff work for its community."""
    community = code[:12]
    for post, role in GRID_ROLES.items():
        if post != missing:
            roster.posts.append((code, roster.hire(role, community, code == DEMO_GRID_CODE), post))
    if missing != "parttime":
        for _ in range(rng.integers(1, 4)):
            roster.posts.append((code, roster.hire("grid_worker", community), "parttime"))
    roster.posts.append((code, secretary, "party_secretary"))


def people_and_posts(
    areas: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff for every area, the posts of every grid (a few left empty), and residents."""
    roster = _Roster()
    demo_community = DEMO_GRID_CODE[:12]
    for level, (role, count) in AREA_ROLES.items():
        for code in areas.loc[areas["level"] == level, "code"]:
            for i in range(count):
                roster.hire(role, code, i == 0 and code == DEMO_AREAS[role])
    # One community worker per two grids doubles as their party-branch secretary.
    staff = {
        str(code): [
            roster.hire("community_staff", str(code), i == 0 and code == demo_community)
            for i in range(max(3, -(-size // 2)))
        ]
        for code, size in grids.groupby("community_code", sort=False).size().items()
    }
    emptied = rng.choice(
        np.flatnonzero(grids["code"] != DEMO_GRID_CODE), round(len(grids) / 25), False
    )
    missing = dict(zip(np.sort(emptied), np.resize(EMPTIED_POSTS, len(emptied)), strict=True))
    for g, (code, serial) in enumerate(zip(grids["code"], grids["serial"], strict=True)):
        secretaries = staff[code[:12]]
        _staff_grid(roster, code, missing.get(g), secretaries[(serial - 1) % len(secretaries)], rng)
    for code in staff:
        for i in range(RESIDENTS_PER_COMMUNITY):
            roster.hire("resident", code, i == 0 and code == demo_community)
    return roster.tables(rng)


def property_secretaries(
    people: pd.DataFrame, posts: pd.DataFrame, points: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add the party secretary of each 红色物业's property company to the grid it serves
    (网格"双书记"). They are residents of the grid's community, not staff: the post is theirs
    as the company's secretary. Drawn after everyone else, so nobody else changes."""
    served = points.loc[points["kind"] == "red_property", "area_code"].to_numpy(str)
    phones = _phones(len(served) + 50, rng)
    phones = phones[~np.isin(phones, people["phone"].to_numpy())][: len(served)]
    added = pd.DataFrame(
        {
            "phone": phones,
            "name": names.person_names(len(served), rng),
            "role": "resident",
            "area_code": [code[:12] for code in served],
        }
    )
    held = pd.DataFrame({"grid_code": served, "phone": phones, "post": "property_party_secretary"})
    return (
        pd.concat([people, added], ignore_index=True),
        pd.concat([posts, held], ignore_index=True),
    )


def department_officer(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Add the demo's department officer (of ``DEMO_DEPARTMENT``, serving 海勃湾区). Drawn
    after everyone else, so nobody else changes."""
    officer = pd.DataFrame(
        {
            "phone": [DEMO_ACCOUNTS["department"]],
            "name": names.person_names(1, rng),
            "role": ["department"],
            "area_code": [DEMO_AREAS["department"]],
        }
    )
    return pd.concat([people, officer], ignore_index=True)


def hotline_operator(people: pd.DataFrame) -> pd.DataFrame:
    """Add the demo's 12345 operator (受理员 of the city's hotline centre). Named from a
    generator of its own, so nobody else in the demo changes."""
    operator = pd.DataFrame(
        {
            "phone": [DEMO_ACCOUNTS["hotline_operator"]],
            "name": names.person_names(1, np.random.default_rng(12345)),
            "role": ["hotline_operator"],
            "area_code": [DEMO_AREAS["hotline_operator"]],
        }
    )
    return pd.concat([people, operator], ignore_index=True)
