"""Who may manage whom: centre staff and admins, the people of their own area, no one above
their own role. Pure logic over the asker's territory and the person's role and area.

A manager (``PEOPLE_MANAGERS``: community staff, street staff, district and city admins) sees
and manages the people whose area lies inside their own and whose role stands no higher than
theirs (``ROLE_RANK``); what they give (a role, an area) must fit the same bounds. A person
with no area is the city's: only a city admin manages them. Nobody manages their own account
here: their own password they change with ``POST /api/auth/password``.

Reading a person one may not manage is 404 (whether they exist is not the asker's to know, as
for cases); acting on one is 403 ``outside_area`` or ``role_above_own``, as the party's grading
refuses a person outside the grader's area.

>>> street = Territory(4, "street_staff", area_code="150302001")
>>> manages(street, "grid_worker", "150302001001"), manages(street, "district_admin", "150302")
(True, False)
>>> manages(street, "street_staff", "150302002")
False
"""

from __future__ import annotations

from backend.core.areas import Level, level_of_code
from backend.core.errors import Forbidden, Invalid
from backend.core.principal import Principal, require_role
from backend.core.roles import (
    GRID_ROLES,
    PEOPLE_MANAGERS,
    ROLE_LABELS,
    ROLE_RANK,
    WORK_LEVELS,
    Role,
)
from backend.core.territory import Territory


def manager(principal: Principal) -> Territory:
    """The asker's territory; 403 unless they manage people and work for an area."""
    require_role(principal, *PEOPLE_MANAGERS)
    if principal.territory.area_code is None:
        raise Forbidden("no_area", "your account is not attached to an area")
    return principal.territory


def _inside(actor: Territory, area: str | None) -> bool:
    return actor.role == Role.city_admin if area is None else actor.covers(area)


def manages(actor: Territory, role: str, area: str | None) -> bool:
    """Whether ``actor`` manages a person of ``role`` working for (or living in) ``area``."""
    return ROLE_RANK.get(role, len(ROLE_RANK)) <= ROLE_RANK[actor.role] and _inside(actor, area)


def check_manages(actor: Territory, person: int, role: str, area: str | None) -> None:
    """403 unless ``actor`` may act on this person (never on themselves)."""
    if person == actor.person_id:
        raise Forbidden("own_account", "manage your own account under /api/me and /api/auth")
    if ROLE_RANK.get(role, len(ROLE_RANK)) > ROLE_RANK[actor.role]:
        raise Forbidden("role_above_own", f"a {role} stands above your role {actor.role}")
    if not _inside(actor, area):
        raise Forbidden("outside_area", f"this person works outside your area {actor.area_code}")


def check_grant(actor: Territory, role: str, area: str | None, department: str | None) -> str:
    """That ``actor`` may give ``role`` in ``area`` (403), and that they fit (422): staff only
    (residents sign up themselves), an area of the role's level, a department for department
    staff and for nobody else. The area, once it is known there is one."""
    if role not in ROLE_RANK:
        raise Invalid("unknown_role", f"no role {role!r}", roles=sorted(ROLE_RANK))
    if role == Role.resident:
        raise Invalid("resident_signs_up", "residents sign up themselves; add staff here")
    if ROLE_RANK[role] > ROLE_RANK[actor.role]:
        raise Forbidden("role_above_own", f"you may not give the role {role}, above your own")
    if area is None:
        raise Invalid("area_required", f"a {ROLE_LABELS[role]} needs the area they work for")
    if not actor.covers(area):
        raise Forbidden("outside_area", f"{area} is outside your area {actor.area_code}")
    wanted = _levels(role)
    try:
        level = level_of_code(area)
    except ValueError:
        raise Invalid("unknown_area", f"no area {area!r}") from None
    if level not in wanted:
        raise Invalid(
            "area_level",
            f"a {ROLE_LABELS[role]} works for a {'/'.join(wanted)}, not {area}",
            levels=list(wanted),
        )
    if role == Role.department and department is None:
        raise Invalid("department_required", "department staff need their department")
    if role != Role.department and department is not None:
        raise Invalid("not_department_staff", "only department staff have a department")
    return area


def _levels(role: str) -> tuple[Level, ...]:
    if role in GRID_ROLES:
        return (Level.community,)  # grid staff work for their grids' community
    return WORK_LEVELS[role]
