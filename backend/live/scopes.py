"""What a role may hear on the live stream, by code: what its territory covers
(``backend.core.territory``), applied to subscriptions.

Grid staff hear the grids where they hold a post; centre staff and admins every code inside
the area they work for (a city: every code that starts with its first 4 digits); department
staff their area if they have one. A resident hears no area at all, only the cases they
reported, which the hub follows by subject (backend/live/access.py).

>>> leader = Territory(3, "grid_leader", grid_codes={"15030200100101"})
>>> resolve(leader, [])
(('15030200100101',), ('15030200100101',))
>>> resolve(Territory(8, "city_admin", area_code="150300"), ["150300", "150302001"])
(('150300', '150302001'), ('1503',))
>>> resolve(leader, ["150302001001"])
Traceback (most recent call last):
...
backend.live.scopes.ScopeRefused: 150302001001 is outside what a grid_leader may follow
"""

from __future__ import annotations

from collections.abc import Sequence

from backend.core.areas import level_of_code, scope_prefix
from backend.core.roles import Role
from backend.core.territory import Territory


class ScopeRefused(Exception):
    """A scope outside the role's territory: the socket closes with 4403."""


class BadScope(ValueError):
    """Not an area or grid code at all: an error message, the socket stays open."""


def resolve(
    territory: Territory, requested: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The codes a subscription follows (``requested``, or the whole territory when empty) and
    the prefixes that events' scopes are matched against: a city's code stands for its first
    4 digits, and a code inside another one of the list adds nothing.

    >>> resolve(Territory(11, "resident"), ["150302001001"])
    Traceback (most recent call last):
    ...
    backend.live.scopes.ScopeRefused: a resident follows their own cases: use "scopes": []
    >>> resolve(Territory(6, "street_staff", area_code="150302001"), ["15%"])
    Traceback (most recent call last):
    ...
    backend.live.scopes.BadScope: not an area or grid code: '15%'
    """
    codes = tuple(dict.fromkeys(requested)) or territory.codes
    for code in codes:
        try:
            level_of_code(code)
        except ValueError as exc:
            raise BadScope(str(exc)) from None
        if territory.role == Role.resident:
            raise ScopeRefused('a resident follows their own cases: use "scopes": []')
        if not territory.covers(code):
            raise ScopeRefused(f"{code} is outside what a {territory.role} may follow")
    return codes, prefixes(codes)


def prefixes(codes: Sequence[str]) -> tuple[str, ...]:
    """The distinct prefixes of ``codes``, none inside another, sorted.

    >>> prefixes(["150302001001", "150302", "15030400200301"])
    ('150302', '15030400200301')
    """
    every = sorted({scope_prefix(c) for c in codes})
    return tuple(p for p in every if not any(p != q and p.startswith(q) for q in every))
