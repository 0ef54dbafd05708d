"""Kinds of emergency, the time-limit factor each brings, and which factor governs a place.

Pure: no database. Areas nest (city → district → street → community → grid), and modes may
nest with them: a district in a flood may have a street inside it on fire. Each mode keeps its
own reason and ends on its own; a case is held to the *smallest* factor among the active modes
whose area contains it, because the strictest emergency around a place is the one its workers
are answering. Switching the same area twice is refused (``already_in_emergency``): the second
switch would say nothing the first did not, and ending it would be ambiguous.

>>> modes = [ActiveMode(1, "150302", "flood", 0.5), ActiveMode(2, "150302001", "fire", 0.25)]
>>> effective_factor(modes, "15030200100101"), effective_factor(modes, "15030200200101")
(0.25, 0.5)
>>> effective_factor(modes, "15030300100101")
1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend.core.areas import code_within, level_of_code
from backend.core.errors import Invalid

# Defaults a city can override per switch. Fire gets the shortest limits: a fire is answered
# in hours, an epidemic or a flood over days or weeks of door-to-door work.
KINDS: Mapping[str, float] = {"epidemic": 0.5, "flood": 0.5, "fire": 0.25, "other": 0.75}
KIND_LABELS: Mapping[str, str] = {
    "epidemic": "疫情",
    "flood": "汛情",
    "fire": "火灾",
    "other": "其他",
}
MAX_REASON = 500


@dataclass(frozen=True)
class ActiveMode:
    id: int
    area_code: str
    kind: str
    factor: float


def factor_of(kind: str, factor: float | None) -> float:
    """The factor a switch brings: the admin's own within (0, 1], or the kind's default.

    >>> factor_of("fire", None), factor_of("fire", 0.4)
    (0.25, 0.4)
    >>> factor_of("fire", 1.5)
    Traceback (most recent call last):
    ...
    backend.core.errors.Invalid: the factor must lie in (0, 1], not 1.5
    """
    if kind not in KINDS:
        known = list(KINDS)
        raise Invalid("unknown_kind", f"the kind is one of {known}, not {kind!r}", kinds=known)
    if factor is None:
        return KINDS[kind]
    if not (math.isfinite(factor) and 0 < factor <= 1):
        raise Invalid("invalid_factor", f"the factor must lie in (0, 1], not {factor}")
    return float(factor)


def reason_of(text: str | None) -> str:
    """A reason, required: who switches an area's limits must say why."""
    reason = (text or "").strip()
    if not reason:
        raise Invalid("missing_reason", "say why the area is switched", field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid("invalid_reason", f"a reason has at most {MAX_REASON} characters")
    return reason


def is_code(code: str) -> bool:
    """Whether ``code`` is shaped like an area or grid code (its existence is the caller's).

    >>> is_code("150302"), is_code("15-03"), is_code("")
    (True, False, False)
    """
    try:
        level_of_code(code)
    except ValueError:
        return False
    return True


def place_of(grid_code: str | None, area_codes: str) -> str | None:
    """Where a case lies: its grid, or for a case in no grid the deepest of its areas (a case
    row's ``area_codes`` lists them from the city down).

    >>> place_of("15030200100101", "150300,150302"), place_of(None, "150300,150302,150302001")
    ('15030200100101', '150302001')
    """
    return grid_code or (area_codes.rsplit(",", 1)[-1] or None)


def effective_factor(modes: Iterable[ActiveMode], code: str) -> float:
    """The smallest factor among ``modes`` whose area contains ``code``; 1.0 in peacetime."""
    return min((m.factor for m in modes if code_within(code, m.area_code)), default=1.0)


def related(modes: Iterable[ActiveMode], code: str) -> list[ActiveMode]:
    """The modes an area's banner shows: those around it and those inside it.

    >>> modes = [ActiveMode(1, "150302", "flood", 0.5), ActiveMode(2, "150303", "fire", 0.25)]
    >>> [m.id for m in related(modes, "150302001")], [m.id for m in related(modes, "150300")]
    ([1], [1, 2])
    """
    return [m for m in modes if code_within(code, m.area_code) or code_within(m.area_code, code)]
