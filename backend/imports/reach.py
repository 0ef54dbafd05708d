"""How far a district admin's import reaches: the features of their own district.

A city admin imports anywhere. A district admin's file may only add, change and remove the
features of their district: grids of its communities, buildings lying in its grids, service
points serving its areas or grids. The area tree is the city's, so they import no areas. Their
file also speaks only for their district: a stored feature elsewhere is never removed by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from backend.core.areas import scope_prefix
from backend.core.errors import Forbidden
from backend.imports.rows import Incoming, Rows, field

# The field that places a feature of each kind: the community of a grid, the grid a building
# lies in, the area or grid a service point serves.
LINK = {"grids": "parent_code", "buildings": "grid_code", "service-points": "area_code"}
# Codes listed in a refusal, so the admin sees which features are not theirs.
SHOWN = 20


def in_district(kind: str, district: str, grid_parents: Mapping[str, str]) -> Callable[[Any], bool]:
    """A test for the link (see ``LINK``) of a feature of ``kind``: is it in ``district``?

    ``grid_parents`` maps grid codes to their communities' codes. A feature linked to nothing
    (a building outside every grid) is in no district.

    >>> grid_parents = {"15030200100101": "150302001001"}
    >>> inside = in_district("buildings", "150302", grid_parents)
    >>> [inside(g) for g in ("15030200100101", "15030300100101", None)]
    [True, False, False]
    >>> in_district("service-points", "150302", {})("150302001")
    True
    """
    prefix = scope_prefix(district)
    if kind == "grids":
        return lambda link: isinstance(link, str) and link.startswith(prefix)

    def placed(link: Any) -> bool:
        community = grid_parents.get(link, link if kind == "service-points" else None)
        return isinstance(community, str) and community.startswith(prefix)

    return placed


def require_kind(kind: str, district: str) -> None:
    """403 ``outside_your_district`` for a kind no district admin imports (the area tree)."""
    if kind not in LINK:
        raise Forbidden(
            "outside_your_district",
            "the area tree is the city's: a district admin imports grids, buildings and "
            "service points of their district",
            district=district,
        )


def check_reach(
    kind: str,
    district: str,
    incoming: Incoming,
    stored: Rows,
    grid_parents: Mapping[str, str],
) -> Callable[[tuple[Any, ...]], bool]:
    """403 ``outside_your_district`` when the file holds a feature of another district, or
    one whose code a feature of another district has; else the test of stored rows that
    limits what the file may remove to the district."""
    require_kind(kind, district)
    inside, at = in_district(kind, district, grid_parents), field(kind, LINK[kind])
    links = incoming.column(LINK[kind]).tolist()
    foreign = [c for c, link in zip(incoming.codes, links, strict=True) if not inside(link)]
    # A code stored elsewhere: writing it would move that feature into this district.
    listed = set(foreign)
    foreign += [
        c for c in incoming if c in stored and c not in listed and not inside(stored[c][at])
    ]
    if foreign:
        shown = ", ".join(foreign[:SHOWN]) + (" …" if len(foreign) > SHOWN else "")
        raise Forbidden(
            "outside_your_district",
            f"{len(foreign)} features lie outside your district {district} or are another "
            f"district's: {shown}",
            district=district,
            codes=foreign[:SHOWN],
        )
    return lambda row: inside(row[at])
