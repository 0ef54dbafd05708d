"""Who acts on a case: the roles, the ``Actor`` (a person with a role and a scope, or the
system), and the territory an actor covers.

Scope is by code (see ``backend.core.areas``): a grid role covers the grids where it holds a
post; centre staff and admins cover every code inside their area (a city covers the codes that
start with its first 4 digits); department staff serve their department, inside their area if
they have one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.core.areas import Level, code_within, level_of_code
from backend.core.roles import AREA_ROLES, GRID_ROLES, Role

DEPARTMENT = "department"  # staff of a functional department (城管, 住建 …)
SYSTEM = "system"  # the scheduler, acting on no one's behalf
# Whoever holds an anonymous request's tracking code. Such an actor is only ever built for the
# one case its code opened (anonymous.py), so "the reporter" is "the case has no signed-in one".
ANONYMOUS = "anonymous"
ROLES: frozenset[str] = frozenset(Role) | {DEPARTMENT, SYSTEM, ANONYMOUS}
_NOBODY = frozenset({SYSTEM, ANONYMOUS})  # actors that are not a person with an id


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person with a role and a scope, or the system.

    ``grid_codes`` are the grids where a grid role holds a post; ``area_code`` the area centre
    staff and admins work for (a resident's home area may be given; it grants nothing);
    ``department`` the department code of department staff.

    >>> Actor(5, "community_staff", area_code="150302")
    Traceback (most recent call last):
    ...
    ValueError: a community_staff works for a community, not '150302'
    """

    person_id: int | None
    role: str
    grid_codes: frozenset[str] = field(default_factory=frozenset)
    area_code: str | None = None
    department: str | None = None

    def __post_init__(self) -> None:
        # Accept a Role member or any iterable of codes, as a person row and its posts give them.
        object.__setattr__(self, "role", str(self.role))
        object.__setattr__(self, "grid_codes", frozenset(self.grid_codes))
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if (self.person_id is None) != (self.role in _NOBODY):
            raise ValueError("every actor but the system and the anonymous is a person with an id")
        for code in self.grid_codes:
            if level_of_code(code) is not Level.grid:
                raise ValueError(f"not a grid code: {code!r}")
        level = AREA_ROLES.get(self.role)
        if level is not None and (self.area_code is None or level_of_code(self.area_code) != level):
            raise ValueError(f"a {self.role} works for a {level}, not {self.area_code!r}")
        if self.role == DEPARTMENT and not self.department:
            raise ValueError("department staff need a department code")


SYSTEM_ACTOR = Actor(None, SYSTEM)
ANONYMOUS_ACTOR = Actor(None, ANONYMOUS)


def covers(actor: Actor, owner_code: str) -> bool:
    """Whether ``owner_code`` lies in the actor's territory.

    Grid roles: one of their grids. Centre staff and admins: their area, any level below
    included. Department staff: their area_code if they have one, else nothing (they act by
    department, not by territory). Residents: nothing. The system: everything.

    >>> covers(Actor(8, "city_admin", area_code="150300"), "15030400200103")
    True
    >>> covers(Actor(5, "community_staff", area_code="150302001001"), "150302001")
    False
    """
    if actor.role == SYSTEM:
        return True
    if actor.role in GRID_ROLES:
        return any(code_within(owner_code, grid) for grid in actor.grid_codes)
    if actor.role == Role.resident or actor.area_code is None:
        return False
    return code_within(owner_code, actor.area_code)


def serves(actor: Actor, department: str | None, owner_code: str) -> bool:
    """Whether ``actor`` is staff of ``department`` for a case owned at ``owner_code``.

    >>> cg = Actor(9, "department", department="cg", area_code="150302")
    >>> serves(cg, "cg", "150302001"), serves(cg, "cg", "150303001"), serves(cg, "zj", "150302")
    (True, False, False)
    """
    return (
        actor.role == DEPARTMENT
        and department is not None
        and department == actor.department
        and (actor.area_code is None or code_within(owner_code, actor.area_code))
    )
