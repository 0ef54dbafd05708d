"""Validation problems as staff and programs read them: a text table, JSON, a GeoPackage.

The GeoPackage opens in QGIS next to the district's own layers, so each problem can be
seen on the map where it is; problems without a place are kept, with no geometry.

>>> from shapely import box
>>> problems = [Problem("gap", ("150302001001",), "12.5 m² not covered", 12.5,
...                     box(106.80, 39.60, 106.81, 39.61))]
>>> print(problems_table(problems))
kind  codes         rows  area m²  reason
----  ------------  ----  -------  -------------------
gap   150302001001  -        12.5  12.5 m² not covered
<BLANKLINE>
1 problem: 1 gap
>>> problems_json(problems, layer="grids")["counts"]
{'gap': 1}
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.validate import Problem

_HEADER = ("kind", "codes", "rows", "area m²", "reason")
_RIGHT_ALIGNED = (False, False, False, True, False)
_ROWS_SHOWN = 5
LAYER = "problems"


def _width(text: str) -> int:
    """Terminal columns: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def rows_text(problem: Problem) -> str:
    """Where the problem is in the file: "line 5" in a CSV/XLSX, else "feature 3".

    >>> rows_text(Problem("duplicate_code", ("A",), "", features=(3, 7), lines=(5, 9)))
    'lines 5, 9'
    >>> rows_text(Problem("overlap", ("A", "B"), "", features=(0, 1)))
    'features 0, 1'
    """
    numbers, word = (problem.lines, "line") if problem.lines else (problem.features, "feature")
    if not numbers:
        return "-"
    shown = ", ".join(str(n) for n in numbers[:_ROWS_SHOWN])
    more = f" (+{len(numbers) - _ROWS_SHOWN})" if len(numbers) > _ROWS_SHOWN else ""
    return f"{word}{'s' if len(numbers) > 1 else ''} {shown}{more}"


def with_rows(
    problems: Sequence[Problem],
    codes: Sequence[str],
    features: Sequence[int] | np.ndarray,
    lines: Sequence[int] | np.ndarray | None = None,
) -> list[Problem]:
    """The problems with the rows of the file that hold the codes each one names.

    `codes`, `features` and `lines` are the file's rows in order (see `geo.layers.Layer`).

    >>> [p.lines for p in with_rows([Problem("gap", ("B",), "")], ["A", "B"], [0, 2], [2, 4])]
    [(4,)]
    """
    # Only the rows of the codes the problems name: a Python loop over 10⁵ buildings' codes
    # took 0.4 s of an import.
    named = list({code for problem in problems for code in problem.codes})
    rows = np.flatnonzero(pd.Index(np.asarray(codes, dtype=object)).isin(named))
    at: defaultdict[str, list[int]] = defaultdict(list)
    for i in rows.tolist():
        at[str(codes[i])].append(i)
    out = []
    for problem in problems:
        found = [i for code in problem.codes for i in at.get(code, ())]
        out.append(
            dataclasses.replace(
                problem,
                features=tuple(int(features[i]) for i in found),
                lines=() if lines is None else tuple(int(lines[i]) for i in found),
            )
            if found
            else problem
        )
    return out


def _area(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1f}"


def _grouped(problems: Sequence[Problem]) -> list[Problem]:
    """Problems grouped by kind, kinds in order of first appearance, each group in order."""
    first = {kind: i for i, kind in reversed(list(enumerate(p.kind for p in problems)))}
    return sorted(problems, key=lambda p: first[p.kind])


def _count_line(problems: Sequence[Problem]) -> str:
    counts = Counter(p.kind for p in problems)
    noun = "problem" if len(problems) == 1 else "problems"
    return f"{len(problems)} {noun}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())


def problems_table(problems: Sequence[Problem]) -> str:
    """A plain-text table (kind | codes | area m² | reason) grouped by kind, with counts.

    >>> problems_table([])
    'no problems'
    """
    if not problems:
        return "no problems"
    rows = [
        (p.kind, ", ".join(p.codes), rows_text(p), _area(p.area_m2), p.reason)
        for p in _grouped(problems)
    ]
    widths = [max(_width(row[i]) for row in [_HEADER, *rows]) for i in range(len(_HEADER))]
    rule = tuple("-" * w for w in widths)
    columns = list(zip(widths, _RIGHT_ALIGNED, strict=True))
    lines = [
        "  ".join(_pad(cell, w, right) for cell, (w, right) in zip(row, columns, strict=True))
        for row in [_HEADER, rule, *rows]
    ]
    # The reason column is last: no trailing spaces after it.
    return "\n".join(line.rstrip() for line in lines) + "\n\n" + _count_line(problems)


def _plain(value: Any) -> Any:
    """Summary values as JSON types: numpy scalars and arrays, tuples, NaN (as None)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def problems_json(problems: Sequence[Problem], **summary: Any) -> dict[str, Any]:
    """{"problems": [...], "counts": {kind: n}, **summary}, ready for json.dumps.

    >>> problems_json([Problem("overlap", ("A", "B"), "A and B overlap", float("nan"))])
    ... # doctest: +NORMALIZE_WHITESPACE
    {'problems': [{'kind': 'overlap', 'codes': ['A', 'B'], 'reason': 'A and B overlap',
                   'area_m2': None, 'geometry': None, 'features': [], 'lines': []}],
     'counts': {'overlap': 1}}
    """
    return {
        "problems": [_plain(p.to_dict()) for p in problems],
        "counts": dict(Counter(p.kind for p in problems)),
        **{key: _plain(value) for key, value in summary.items()},
    }


def problems_frame(problems: Sequence[Problem]) -> gpd.GeoDataFrame:
    """One row per problem: kind, codes (comma-joined), rows, area_m2, reason, geometry
    (EPSG:4326)."""
    areas = [np.nan if p.area_m2 is None else float(p.area_m2) for p in problems]
    return gpd.GeoDataFrame(
        {
            "kind": [p.kind for p in problems],
            "codes": [",".join(p.codes) for p in problems],
            "rows": [rows_text(p) for p in problems],
            "area_m2": np.asarray(areas, dtype=float),
            "reason": [p.reason for p in problems],
        },
        geometry=gpd.GeoSeries(np.array([p.geometry for p in problems], dtype=object), crs=4326),
    )


def write_problems_gpkg(problems: Sequence[Problem], path: str | Path) -> None:
    """Write the problems as the layer "problems" of a GeoPackage (other layers are kept).

    Problems mix polygons (gaps, overlaps), collections (repaired shapes) and no geometry
    at all, so the layer is written with the generic geometry type.
    """
    pyogrio.write_dataframe(
        problems_frame(problems),
        Path(path),
        layer=LAYER,
        driver="GPKG",
        geometry_type="Unknown",
        promote_to_multi=False,
    )
