"""Who acts, and the territory they cover: the one model every feature's rules ask.

A signed-in person's territory is read with their principal (backend/auth/principal.py) and
kept with it, so a request never reads "my area" or "my grids" again. Scope is by code (see
``backend.core.areas``): a grid role covers the grids where it holds a post; centre staff and
admins every code inside their area (a city: the codes that start with its first 4 digits);
department staff serve their department, inside their area if they have one, and cover that
area; a resident covers nothing. The scheduler acts as the system, which covers everything.

>>> leader = Territory(3, "grid_leader", grid_codes={"15030200100101"})
>>> leader.covers("15030200100101"), leader.covers("150302001001")
(True, False)
>>> Territory(8, "city_admin", area_code="150300").covers("15030400200103")
True
>>> Territory(5, "community_staff", area_code="150302001001").covers("150302001")
False
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from backend.core.areas import Level, code_within, level_of_code, scope_prefix
from backend.core.roles import AREA_ROLES, GRID_ROLES, Role

SYSTEM = "system"  # the scheduler, acting on no one's behalf
# Whoever holds an anonymous request's tracking code. Such an actor is only ever built for the
# one case its code opened (backend/cases/anonymous.py), so "the reporter" is "the case has no
# signed-in one".
ANONYMOUS = "anonymous"
ACTOR_ROLES: frozenset[str] = frozenset(Role) | {SYSTEM, ANONYMOUS}
_NOBODY = frozenset({SYSTEM, ANONYMOUS})  # actors that are not a person with an id


@dataclass(frozen=True)
class Territory:
    """A person's role and where it works, or the system's or an anonymous reporter's.

    ``grid_codes`` are the grids where the person holds a post (whatever their role; a grid
    role works in them), ``home_grid`` the first of them by post (a leader's grid before one
    where they are part-time); ``area_code`` the area on their account: where centre staff,
    admins and department staff work, where a resident lives (which grants nothing);
    ``department`` the department code of department staff.

    >>> Territory(5, "community_staff", area_code="150302")
    Traceback (most recent call last):
    ...
    ValueError: a community_staff works for a community, not '150302'
    """

    person_id: int | None
    role: str
    grid_codes: frozenset[str] = field(default_factory=frozenset)
    area_code: str | None = None
    department: str | None = None
    home_grid: str | None = None

    def __post_init__(self) -> None:
        # Accept a Role member or any iterable of codes, as a person row and its posts give them.
        object.__setattr__(self, "role", str(self.role))
        object.__setattr__(self, "grid_codes", frozenset(self.grid_codes))
        if self.role not in ACTOR_ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if (self.person_id is None) != (self.role in _NOBODY):
            raise ValueError("every actor but the system and the anonymous is a person with an id")
        for code in self.grid_codes:
            if level_of_code(code) is not Level.grid:
                raise ValueError(f"not a grid code: {code!r}")
        if self.home_grid is None and self.grid_codes:
            object.__setattr__(self, "home_grid", min(self.grid_codes))
        elif self.home_grid is not None and self.home_grid not in self.grid_codes:
            raise ValueError(f"the home grid {self.home_grid!r} is not one of the grids")
        # Staff without an area (or a department) are possible, and cover (or serve) nothing;
        # an area at the wrong level is a roster the import would have refused.
        level = AREA_ROLES.get(self.role)
        if level is not None and self.area_code and level_of_code(self.area_code) != level:
            raise ValueError(f"a {self.role} works for a {level}, not {self.area_code!r}")

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes the role works in, sorted: a grid role's grids, the area of centre staff,
        admins and department staff; nothing for a resident or an anonymous reporter.

        >>> Territory(11, "resident", area_code="150302001001").codes
        ()
        """
        if self.role in GRID_ROLES:
            return tuple(sorted(self.grid_codes))
        if self.role in (Role.resident, SYSTEM, ANONYMOUS) or self.area_code is None:
            return ()
        return (self.area_code,)

    @property
    def centre_area(self) -> str | None:
        """The area centre staff and admins work for; None for every other role."""
        return self.area_code if self.role in AREA_ROLES else None

    @functools.cached_property
    def _prefixes(self) -> tuple[str, ...]:
        # Once per territory: a list of 50 cases asks ``covers`` about 500 times.
        return tuple(scope_prefix(mine) for mine in self.codes)

    def covers(self, code: str) -> bool:
        """Whether ``code`` (an area or grid) lies in this territory (``code_within`` one of
        its codes); the system covers all."""
        return self.role == SYSTEM or code.startswith(self._prefixes)

    def serves(self, department: str | None, owner_code: str) -> bool:
        """Whether this is staff of ``department`` for a case owned at ``owner_code``.

        >>> cg = Territory(9, "department", department="cg", area_code="150302")
        >>> cg.serves("cg", "150302001"), cg.serves("cg", "150303001"), cg.serves("zj", "150302")
        (True, False, False)
        """
        return (
            self.role == Role.department
            and department is not None
            and department == self.department
            and (self.area_code is None or code_within(owner_code, self.area_code))
        )


SYSTEM_ACTOR = Territory(None, SYSTEM)
ANONYMOUS_ACTOR = Territory(None, ANONYMOUS)
