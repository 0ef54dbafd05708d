"""What a roster's rows mean, and every way they can be wrong. Pure logic: the areas, grids
and departments the rows may name are handed in (`Reference`).

A person is one phone: the rows sharing a phone are that person's posts and must agree on
everything else. The scope of a role decides what a row needs:

- grid roles (网格长, 网格警, 网格员) a grid and a post there, the post fitting the role; they
  work for the grid's community;
- centre staff and admins an area of their level, optionally a grid post (a community worker
  may be a grid's party secretary);
- department staff a department and the area it serves (a city's, a district's, a street's).

Residents sign themselves up and are not staff: a roster refuses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from backend.core.roles import GRID_ROLES, POST_HOLDERS, ROLE_LABELS, WORK_LEVELS, Role
from backend.grids.tables import POST_LABELS
from backend.people.roster import Roster, Row

MOBILE = re.compile(r"1[3-9]\d{9}")
NAME_LENGTH = 64  # Person.name's column
# 一格一长一警一专: one person each per grid (part-time workers are many).
SINGLE_POSTS = ("leader", "police", "fulltime")
# How the cells of a role or post may name it: the code, its label, a few usual words.
ROLES_BY_NAME: dict[str, str] = {
    **{r: r for r in Role},
    **{label: r for r, label in ROLE_LABELS.items()},
    "专职网格员": Role.grid_worker,
    "兼职网格员": Role.grid_worker,
    "部门工作人员": Role.department,
}
STAFF_LABELS = [label for role, label in ROLE_LABELS.items() if role != Role.resident]
POSTS_BY_NAME = {**{p: p for p in POST_LABELS}, **{label: p for p, label in POST_LABELS.items()}}
ACTIVE_WORDS = {
    **dict.fromkeys(("", "是", "在岗", "1", "true", "yes", "y", "有效", "启用"), True),
    **dict.fromkeys(("否", "离岗", "0", "false", "no", "n", "无效", "停用"), False),
}


@dataclass(frozen=True)
class Reference:
    areas: dict[str, tuple[int, str]]  # code -> (id, level)
    grids: dict[str, tuple[int, str]]  # code -> (id, its community's code)
    departments: dict[str, int]  # code, short name or full name -> id


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str  # as the file's header names it
    value: str
    reason: str


@dataclass(frozen=True)
class Staff:
    """A person as the roster says they should be stored."""

    phone: str
    name: str
    role: str
    area: int | None
    active: bool
    department: int | None
    line: int  # the person's first row
    posts: dict[tuple[int, str], tuple[str, int]]  # (grid id, post) -> (grid code, its line)


def phone_digits(text: str) -> str:
    """A phone as stored: separators and the country code dropped.

    >>> phone_digits("+86 138-0000-0000")
    '13800000000'
    """
    digits = re.sub(r"[\s\-()]", "", text)
    return re.sub(r"^(\+?86)(?=1\d{10}$)", "", digits)


class _Checker:
    def __init__(self, roster: Roster, ref: Reference) -> None:
        self.columns, self.ref = roster.columns, ref
        self.problems: list[RowProblem] = []

    def bad(self, row: Row, column: str, reason: str) -> None:
        header = self.columns.get(column, column)
        self.problems.append(RowProblem(row.line, header, row.values.get(column, ""), reason))

    def person(self, row: Row) -> dict[str, Any] | None:
        """One row's values as stored, or None (with its problems noted)."""
        v, problems = row.values, len(self.problems)
        name, phone = v["name"], phone_digits(v["phone"])
        if not name:
            self.bad(row, "name", "missing name")
        elif len(name) > NAME_LENGTH:
            self.bad(row, "name", f"longer than {NAME_LENGTH} characters")
        if not phone:
            self.bad(row, "phone", "missing phone")
        elif not MOBILE.fullmatch(phone):
            self.bad(row, "phone", "not an 11-digit mainland mobile number (1[3-9]xxxxxxxxx)")
        role = self.role(row)
        active = ACTIVE_WORDS.get(v.get("active", "").casefold())
        if active is None:
            self.bad(row, "active", "not 是/否 (or 1/0, yes/no, 在岗/离岗)")
        area = self.lookup(row, "area_code", self.ref.areas, "no area with this code")
        grid = self.lookup(row, "grid_code", self.ref.grids, "no grid with this code")
        department = self.lookup(
            row, "department", self.ref.departments, "no department with this code or name"
        )
        post_cell = v.get("post", "")
        if post_cell and post_cell not in POSTS_BY_NAME:
            self.bad(row, "post", f"unknown post; one of {', '.join(POST_LABELS.values())}")
        post = POSTS_BY_NAME.get(post_cell)
        if role is not None:
            area = self.scope(row, role, area, grid, post, department)
        if len(self.problems) > problems:
            return None
        return {
            "phone": phone,
            "name": name,
            "role": role,
            "area": area[0] if area else None,
            "active": active,
            "department": department,
            "post": (grid[0], post, v["grid_code"]) if grid and post else None,
        }

    def role(self, row: Row) -> str | None:
        text = row.values["role"]
        role = ROLES_BY_NAME.get(text) or ROLES_BY_NAME.get(text.casefold())
        if not text:
            self.bad(row, "role", "missing role")
        elif role is None:
            self.bad(row, "role", f"unknown role; one of {', '.join(STAFF_LABELS)}")
        elif role == Role.resident:
            self.bad(row, "role", "residents sign up themselves; a roster lists staff")
            return None
        return role

    def lookup(self, row: Row, column: str, known: dict[str, Any], reason: str) -> Any:
        text = row.values.get(column, "")
        if text and text not in known:
            self.bad(row, column, reason)
        return known.get(text) if text else None

    def scope(
        self,
        row: Row,
        role: str,
        area: tuple[int, str] | None,
        grid: tuple[int, str] | None,
        post: str | None,
        department: int | None,
    ) -> tuple[int, str] | None:
        """The area the person works for, once the row fits the role's scope."""
        if department is not None and role != Role.department:
            self.bad(row, "department", "only department staff (职能部门工作人员) have one")
        if role in GRID_ROLES:
            if grid is None and not row.values.get("grid_code"):
                self.bad(row, "grid_code", f"a {ROLE_LABELS[role]} needs the grid they work in")
            if post is None and not row.values.get("post"):
                self.bad(row, "post", f"a {ROLE_LABELS[role]} needs their post in the grid")
            if grid is None:
                return area
            community = self.ref.areas.get(grid[1])
            if area is not None and community is not None and area != community:
                self.bad(row, "area_code", f"the grid lies in community {grid[1]}, not here")
            self.post_fits(row, role, post)
            return community
        levels = WORK_LEVELS[role]
        if area is None and not row.values.get("area_code"):
            self.bad(row, "area_code", f"a {ROLE_LABELS[role]} needs the area they work for")
        elif area is not None and area[1] not in levels:
            self.bad(row, "area_code", f"a {ROLE_LABELS[role]} works for a {'/'.join(levels)}")
        has_grid, has_post = bool(row.values.get("grid_code")), bool(row.values.get("post"))
        if role == Role.department:
            if department is None and not row.values.get("department"):
                self.bad(row, "department", "department staff need their department")
            if has_grid or has_post:
                self.bad(row, "post" if has_post else "grid_code", "department staff hold no post")
        elif has_grid != has_post:
            missing = "grid_code" if has_post else "post"
            self.bad(row, missing, "a grid post needs both the grid and the post")
        else:
            self.post_fits(row, role, post)
        return area

    def post_fits(self, row: Row, role: str, post: str | None) -> None:
        if post is not None and role not in POST_HOLDERS.get(post, ()):
            self.bad(row, "post", f"a {ROLE_LABELS[role]} cannot be {POST_LABELS[post]}")


def _agree(checker: _Checker, rows: Iterable[tuple[Row, dict[str, Any]]]) -> dict[str, Staff]:
    """One Staff per phone; rows of one phone that disagree, or repeat a post, are problems."""
    people: dict[str, Staff] = {}
    firsts: dict[str, tuple[Row, dict[str, Any]]] = {}
    holders: dict[tuple[int, str], tuple[str, int]] = {}  # single post -> (phone, line)
    for row, p in rows:
        first = firsts.setdefault(p["phone"], (row, p))
        for key in ("name", "role", "area", "active", "department"):
            if p[key] != first[1][key]:
                column = "area_code" if key == "area" else key
                checker.bad(row, column, f"line {first[0].line} gives this phone another {key}")
        staff = people.get(p["phone"])
        posts = dict(staff.posts) if staff else {}
        if p["post"] is not None:
            grid, post, code = p["post"]
            if (grid, post) in posts:
                checker.bad(row, "post", f"the same post is on line {posts[grid, post][1]}")
            posts[grid, post] = (code, row.line)
            holder = holders.setdefault((grid, post), (p["phone"], row.line))
            if post in SINGLE_POSTS and holder[0] != p["phone"]:
                checker.bad(row, "post", f"one {POST_LABELS[post]} per grid: line {holder[1]} is")
        kept = {k: first[1][k] for k in ("phone", "name", "role", "area", "active", "department")}
        people[p["phone"]] = Staff(**kept, line=first[0].line, posts=posts)
    return people


def check_roster(roster: Roster, ref: Reference) -> tuple[dict[str, Staff], list[RowProblem]]:
    """The people of a roster by phone, and its problems in row order."""
    checker = _Checker(roster, ref)
    parsed = [(row, checker.person(row)) for row in roster.rows]
    people = _agree(checker, [(row, p) for row, p in parsed if p is not None])
    return people, sorted(checker.problems, key=lambda p: p.row)
