"""What a role may hear on the live stream, by code: the rule of backend/cases/actors.py's
``covers``, applied to subscriptions.

Grid staff hear the grids where they hold a post; centre staff and admins every code inside
the area they work for (a city: every code that starts with its first 4 digits); department
staff their area if they have one. A resident hears no area at all, only the cases they
reported, which the hub follows by subject (backend/live/access.py).

>>> leader = Territory("grid_leader", grids=("15030200100101",))
>>> resolve(leader, [])
(('15030200100101',), ('15030200100101',))
>>> resolve(Territory("city_admin", area="150300"), ["150300", "150302001"])
(('150300', '150302001'), ('1503',))
>>> resolve(leader, ["150302001001"])
Traceback (most recent call last):
...
backend.live.scopes.ScopeRefused: 150302001001 is outside what a grid_leader may follow
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backend.core.areas import code_within, level_of_code, scope_prefix
from backend.core.roles import GRID_ROLES, Role


class ScopeRefused(Exception):
    """A scope outside the role's territory: the socket closes with 4403."""


class BadScope(ValueError):
    """Not an area or grid code at all: an error message, the socket stays open."""


@dataclass(frozen=True)
class Territory:
    """A person's role and where it works: the grids of their posts, or their area's code."""

    role: str
    grids: tuple[str, ...] = ()
    area: str | None = None

    def default_codes(self) -> tuple[str, ...]:
        """What ``"scopes": []`` stands for: everything the role may hear.

        >>> Territory("resident", area="150302001001").default_codes()
        ()
        """
        if self.role in GRID_ROLES:
            return self.grids
        if self.role == Role.resident or self.area is None:
            return ()
        return (self.area,)

    def allows(self, code: str) -> bool:
        """Whether ``code`` lies in this territory (``actors.covers`` for subscriptions).

        >>> Territory("community_staff", area="150302001001").allows("15030200100102")
        True
        >>> Territory("community_staff", area="150302001001").allows("150302001")
        False
        """
        if self.role in GRID_ROLES:
            return any(code_within(code, grid) for grid in self.grids)
        if self.role == Role.resident or self.area is None:
            return False
        return code_within(code, self.area)


def resolve(
    territory: Territory, requested: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The codes a subscription follows (``requested``, or the whole territory when empty) and
    the prefixes that events' scopes are matched against: a city's code stands for its first
    4 digits, and a code inside another one of the list adds nothing.

    >>> resolve(Territory("resident"), ["150302001001"])
    Traceback (most recent call last):
    ...
    backend.live.scopes.ScopeRefused: a resident follows their own cases: use "scopes": []
    >>> resolve(Territory("street_staff", area="150302001"), ["15%"])
    Traceback (most recent call last):
    ...
    backend.live.scopes.BadScope: not an area or grid code: '15%'
    """
    codes = tuple(dict.fromkeys(requested)) or territory.default_codes()
    for code in codes:
        try:
            level_of_code(code)
        except ValueError as exc:
            raise BadScope(str(exc)) from None
        if territory.role == Role.resident:
            raise ScopeRefused('a resident follows their own cases: use "scopes": []')
        if not territory.allows(code):
            raise ScopeRefused(f"{code} is outside what a {territory.role} may follow")
    return codes, prefixes(codes)


def prefixes(codes: Sequence[str]) -> tuple[str, ...]:
    """The distinct prefixes of ``codes``, none inside another, sorted.

    >>> prefixes(["150302001001", "150302", "15030400200301"])
    ('150302', '15030400200301')
    """
    every = sorted({scope_prefix(c) for c in codes})
    return tuple(p for p in every if not any(p != q and p.startswith(q) for q in every))
