"""The roles of design.md and every group of them a rule names: one place, so that "who are
the managers" or "who may hold a grid's police post" has one answer.

A role's scope is what it works in: grid staff the grids where they hold a post, centre staff
and admins the area they work for (``AREA_ROLES`` gives its level), department staff their
department (inside their area, if they have one), residents nothing but their own cases.

>>> MANAGERS - set(AREA_ROLES) == {Role.grid_leader}
True
>>> AREA_ROLES[Role.street_staff]
<Level.street: 'street'>
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from backend.core.areas import Level


class Role(StrEnum):
    resident = "resident"
    grid_worker = "grid_worker"  # 专职/兼职网格员
    grid_leader = "grid_leader"  # 网格长
    grid_police = "grid_police"  # 网格警
    community_staff = "community_staff"  # 社区党群服务中心
    street_staff = "street_staff"  # 街道
    district_admin = "district_admin"
    city_admin = "city_admin"
    department = "department"  # 职能部门 (城管, 住建 …): which one, department_member says
    hotline_operator = "hotline_operator"  # 受理员 of a city or district 12345 hotline centre


ROLE_LABELS: dict[str, str] = {
    "resident": "居民",
    "grid_worker": "网格员",
    "grid_leader": "网格长",
    "grid_police": "网格警",
    "community_staff": "社区工作人员",
    "street_staff": "街道工作人员",
    "district_admin": "区管理员",
    "city_admin": "市管理员",
    "department": "职能部门工作人员",
    "hotline_operator": "热线受理员",
}

# Grid staff (一格一长一警一专): they work in the grids where they hold a post.
GRID_ROLES: frozenset[str] = frozenset({Role.grid_worker, Role.grid_leader, Role.grid_police})
# Centre staff and admins, bottom up, with the level of the area they work for.
AREA_ROLES: Mapping[str, Level] = {
    Role.community_staff: Level.community,
    Role.street_staff: Level.street,
    Role.district_admin: Level.district,
    Role.city_admin: Level.city,
}
# The levels whose areas a department's staff may serve (a city's, a district's, a street's).
DEPARTMENT_LEVELS: tuple[Level, ...] = (Level.city, Level.district, Level.street)
# The levels of the areas whose 12345 hotline centres have operators: the city's, a district's.
# An operator enters calls anywhere in the city, and calls back the callers of their area.
HOTLINE_LEVELS: tuple[Level, ...] = (Level.city, Level.district)
# The levels of the area each role that works for an area may work for (grid staff work for
# their grids, residents for nobody).
WORK_LEVELS: Mapping[str, tuple[Level, ...]] = {
    **{role: (level,) for role, level in AREA_ROLES.items()},
    Role.department: DEPARTMENT_LEVELS,
    Role.hotline_operator: HOTLINE_LEVELS,
}
# Who manages the work of a territory: accepts, dispatches and closes its cases.
MANAGERS: frozenset[str] = frozenset({Role.grid_leader, *AREA_ROLES})
# Who imports layers and switches emergency mode.
ADMINS: tuple[str, ...] = (Role.city_admin, Role.district_admin)
# Who publishes volunteer needs and confirms service hours: the community, and the street above.
COMMUNITY_CENTRES: tuple[str, ...] = (Role.community_staff, Role.street_staff)
# Who sets community workers' grades and branches' stars.
GRADERS: tuple[str, ...] = (Role.street_staff, Role.district_admin, Role.city_admin)
# Who manages people (backend/people/): centre staff and admins, each the people of its area.
PEOPLE_MANAGERS: tuple[str, ...] = tuple(AREA_ROLES)
# How high each role stands: nobody manages anyone above their own role or gives a role above
# it. Department staff stand with a street's: they serve a street, a district or the city.
ROLE_RANK: Mapping[str, int] = {
    Role.resident: 0,
    Role.grid_worker: 1,
    Role.grid_police: 1,
    Role.grid_leader: 2,
    Role.community_staff: 3,
    Role.department: 4,
    Role.hotline_operator: 4,
    Role.street_staff: 4,
    Role.district_admin: 5,
    Role.city_admin: 6,
}
# Who counts as a community worker (三岗十八级): centre staff and the grid staff they employ.
COMMUNITY_WORKERS: frozenset[str] = frozenset(
    {Role.community_staff, Role.grid_leader, Role.grid_worker}
)
# Who may hold each grid post (backend/grids/tables.py's POST_LABELS). The property company's
# party secretary (物业党支部书记) is the company's, a resident: not staff, so not on a roster.
POST_HOLDERS: Mapping[str, frozenset[str]] = {
    "leader": frozenset({Role.grid_leader}),
    "police": frozenset({Role.grid_police}),
    "fulltime": frozenset({Role.grid_worker}),
    "parttime": frozenset({Role.grid_worker}),
    "party_secretary": frozenset({Role.grid_leader, Role.grid_worker, Role.community_staff}),
}
