"""The area-code hierarchy: the five levels from a grid up to the city, and what an area or
grid code says about them. Every feature that places something by code stands on it.

Codes are built from the national division codes (design.md): a district has the 6 digits of
GB/T 2260, a street 9, a community 12 and a grid 14 (CJ/T 349 adds a 2-digit serial). The city
is the prefecture's 6-digit code, ending in "00" ("150300" for Wuhai), and contains every code
that starts with its first 4 digits. So "is this code inside that area" is a prefix test, and
the level of a code, and the code one level up, can be read off the code itself.

>>> level_of_code("15030200100101"), level_of_code("150300")
(<Level.grid: 'grid'>, <Level.city: 'city'>)
>>> code_within("15030200100101", "150300"), code_within("15030200100101", "150303")
(True, False)
>>> parent_code("150302001")
'150302'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from enum import StrEnum


class Level(StrEnum):
    """Bottom up: the order in which a case escalates (网格 → 社区 → 街道 → 区 → 市)."""

    grid = "grid"
    community = "community"
    street = "street"  # 街道 or 镇
    district = "district"
    city = "city"


LEVELS: tuple[Level, ...] = tuple(Level)
# How many digits a code has at each level below the city (a grid's 14 is CJ/T 349's; up to 16
# are accepted, see ``level_of_code``). The city's is a district's, ending in "00".
CODE_LENGTH: Mapping[Level, int] = {
    Level.grid: 14,
    Level.community: 12,
    Level.street: 9,
    Level.district: 6,
}


def next_level(level: Level | str) -> Level | None:
    """The level a case escalates to; ``None`` above the city.

    >>> next_level("grid"), next_level(Level.city)
    (<Level.community: 'community'>, None)
    """
    i = LEVELS.index(Level(level))
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def rank(level: Level | str) -> int:
    """0 for a grid up to 4 for the city, to compare levels.

    >>> rank("street") > rank("community")
    True
    """
    return LEVELS.index(Level(level))


# Read off every case a list answers, several times each (backend/cases/policy.py).
@functools.lru_cache(maxsize=4096)
def level_of_code(code: str) -> Level:
    """The level of an area or grid code, from its length.

    Grid codes are 14 digits by CJ/T 349; up to 16 are accepted (the grid table's column width)
    for cities that number grids with more digits.

    >>> level_of_code("150302001001"), level_of_code("150302")
    (<Level.community: 'community'>, <Level.district: 'district'>)
    >>> level_of_code("15-03")
    Traceback (most recent call last):
    ...
    ValueError: not an area or grid code: '15-03'
    """
    n = len(code)
    if code.isascii() and code.isdigit():
        if 13 <= n <= 16:
            return Level.grid
        if n == 12:
            return Level.community
        if n == 9:
            return Level.street
        if n == 6:
            # GB/T 2260: XXYY00 is the prefecture (the city) itself, XXYYnn its districts.
            return Level.city if code.endswith("00") else Level.district
    raise ValueError(f"not an area or grid code: {code!r}")


def scope_prefix(area_code: str) -> str:
    """The prefix every code inside ``area_code`` starts with: the code, or a city's 4 digits.

    >>> scope_prefix("150300"), scope_prefix("150302001")
    ('1503', '150302001')
    """
    return area_code[:4] if level_of_code(area_code) is Level.city else area_code


def code_within(code: str, area_code: str) -> bool:
    """Whether ``code`` (an area or a grid) is ``area_code`` or lies inside it.

    >>> code_within("150302001", "150302001"), code_within("150302", "150302001")
    (True, False)
    """
    return code.startswith(scope_prefix(area_code))


def parent_code(code: str) -> str | None:
    """The code of the area one level up; ``None`` for the city.

    >>> parent_code("15030200100101"), parent_code("150302"), parent_code("150300")
    ('150302001001', '150300', None)
    """
    up = next_level(level_of_code(code))
    if up is None:
        return None
    return code[:4] + "00" if up is Level.city else code[: CODE_LENGTH[up]]


def enclosing(codes: Iterable[str]) -> str:
    """The smallest area code (or the one grid code) that every code in ``codes`` lies in: the
    scope of an event about many of them. Readers subscribe by code prefix, so such an event is
    filed under the deepest code that all of them start with, cut back to a whole level.

    >>> enclosing(["15030200100101", "15030200100102"])
    '150302001001'
    >>> enclosing(["15030200100101", "150302002"])
    '150302'
    >>> enclosing(["15030200100101", "15030400200301"])
    '150300'
    >>> enclosing(["150302", "150302001"])
    '150302'
    >>> enclosing([])
    Traceback (most recent call last):
    ...
    ValueError: no codes to enclose
    """
    codes = list(codes)
    if not codes:
        raise ValueError("no codes to enclose")
    first, last = min(codes), max(codes)
    if first == last:
        return first
    # The lowest and the highest code share the prefix that all of them share.
    same = (i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b)
    common = first[: next(same, len(first))]
    for level in (Level.community, Level.street, Level.district):
        if len(common) >= CODE_LENGTH[level]:
            return common[: CODE_LENGTH[level]]
    return common[:4] + "00" if len(common) >= 4 else common
