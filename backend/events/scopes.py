"""The scope of an event about many areas or grids: the smallest area that holds them all.

Readers subscribe by code prefix (a community hears its grids, the city everything), so an
event about several codes is filed under the deepest code that every one of them starts with,
cut back to a whole level: 14 digits a grid (up to 16), 12 a community, 9 a street, 6 a
district; above that the city, whose code is its first 4 digits and "00".

>>> enclosing(["15030200100101"])
'15030200100101'
>>> enclosing(["15030200100101", "15030200100102"])
'150302001001'
>>> enclosing(["15030200100101", "150302002"])
'150302'
>>> enclosing(["15030200100101", "15030400200301"])
'150300'
>>> enclosing(["150302", "150302001"])
'150302'
"""

from __future__ import annotations

from collections.abc import Iterable

_LEVELS = (12, 9, 6)


def enclosing(codes: Iterable[str]) -> str:
    """The smallest area code (or the one grid code) that every code in ``codes`` lies in.

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
    for length in _LEVELS:
        if len(common) >= length:
            return common[:length]
    return common[:4] + "00" if len(common) >= 4 else common
