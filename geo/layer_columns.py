"""Which source column of a hand-made layer holds which canonical column, for `geo.layers`.

District staff name attribute columns in Chinese, in English, or by the pinyin initials
that Chinese GIS templates use (wgbm = 网格编码, mc = 名称); files downloaded from web
platforms keep theirs (DataV/Aliyun: adcode, name, level, parent.adcode once flattened;
天地图 and 国土 exports: 行政区划代码/XZQDM, 行政区名称/XZQMC, 上级代码/SJDM). Names are
compared case-insensitively with surrounding spaces ignored; earlier names in a list win.
A Shapefile cuts column names at 10 bytes: `cut_names` finds a guess so cut.

>>> guesses("grids", "code")[:3]
('code', '编码', '代码')
>>> guesses("areas", "parent_code")[:4]
('parent_code', 'parent', 'parent.adcode', 'parent_adcode')
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geo.layer_errors import LayerError

GUESSES: dict[str, tuple[str, ...]] = {
    "code": (
        "code", "编码", "代码", "网格编码", "网格代码", "区划代码", "行政区划代码",
        "统计用区划代码", "楼栋编码", "建筑编码", "点位编码", "adcode", "xzqdm", "xzqhdm",
        "行政区代码", "bm", "dm", "wgbm", "id",
    ),
    "name": (
        "name", "名称", "网格名称", "区划名称", "社区名称", "楼栋名称", "建筑名称", "点位名称",
        "行政区名称", "行政区划名称", "xzqmc", "mc", "wgmc",
    ),
    "parent_code": (
        "parent_code", "parent", "parent.adcode", "上级编码", "上级代码", "所属社区编码",
        "所属社区代码", "社区编码", "community_code", "sqbm",
    ),
    "kind": ("kind", "type", "类型", "网格类型", "点位类型", "类别"),
    "level": ("level", "级别", "层级", "行政级别", "jb"),
    "address": ("address", "地址", "详细地址", "dz"),
    "floors": ("floors", "层数", "楼层数", "cs"),
    "households": ("households", "户数", "住户数", "hs"),
    "hours": ("hours", "开放时间", "营业时间", "服务时间"),
    "phone": ("phone", "tel", "电话", "联系电话"),
    "area_code": ("area_code", "所属区域编码", "区域编码", "所属网格编码", "所属社区编码"),
}  # fmt: skip

# An areas layer is a list of communities (or streets...): there 社区编码 is a row's own
# code, not its parent's, so the grid-to-community names above would mislead. The level
# names go lowest first, since a layer's own level is the lowest one it has a column for.
_AREA_GUESSES: dict[str, tuple[str, ...]] = {
    "code": (
        *GUESSES["code"][:-1], "社区编码", "社区代码", "村编码", "街道编码", "街道代码",
        "乡镇编码", "乡镇代码", "区县编码", "区县代码", "id",
    ),
    "name": (*GUESSES["name"], "村名称", "街道名称", "乡镇名称", "区县名称"),
    "parent_code": (
        "parent_code", "parent", "parent.adcode", "parent_adcode", "上级编码", "上级代码",
        "上级区划代码", "上级行政区划代码", "sjdm", "sjxzqdm",
    ),
}  # fmt: skip

WKT_GUESSES: tuple[str, ...] = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "空间信息")
LON_GUESSES: tuple[str, ...] = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_GUESSES: tuple[str, ...] = ("lat", "latitude", "y", "纬度")


def guesses(kind: str, column: str) -> tuple[str, ...]:
    """Source column names that may hold the canonical `column` of a `kind` layer."""
    if kind == "areas" and column in _AREA_GUESSES:
        return _AREA_GUESSES[column]
    return GUESSES[column]


def by_name(columns: Iterable[str]) -> dict[str, str]:
    """Normalised name -> source column, the first of any that normalise alike."""
    found: dict[str, str] = {}
    for column in columns:
        found.setdefault(str(column).strip().casefold(), column)
    return found


def find(lookup: dict[str, str], names: tuple[str, ...], taken: set[str]) -> str | None:
    """The first of `names` present in `lookup` (from `by_name`) and not yet `taken`."""
    for name in names:
        column = lookup.get(name.strip().casefold())
        if column is not None and column not in taken:
            return column
    return None


def cut_names(name: str, limit: int = 10) -> set[str]:
    """`name` as a Shapefile keeps it when cut at `limit` bytes in GBK or UTF-8 (a character
    cut in half dropped); empty when the name fits whole.

    >>> sorted(cut_names("所属社区编码"))
    ['所属社', '所属社区编']
    >>> cut_names("code")
    set()
    """
    cuts = set()
    for encoding in ("gb18030", "utf-8"):
        raw = name.encode(encoding)
        if len(raw) > limit:
            cuts.add(raw[:limit].decode(encoding, errors="ignore"))
    return cuts - {""}


def find_cut(
    lookup: dict[str, str], names: tuple[str, ...], taken: set[str]
) -> tuple[str, str] | None:
    """The first of `names` present in `lookup` only as a Shapefile cut it: (column, name)."""
    for name in names:
        for cut in sorted(cut_names(name), key=len, reverse=True):
            column = lookup.get(cut.strip().casefold())
            if column is not None and column not in taken:
                return column, name
    return None


def source_column(frame: pd.DataFrame, name: str) -> str:
    """The source column a mapping names, matched exactly or else as a guess would be."""
    if name in frame.columns:
        return name
    column = by_name(frame.columns).get(name.strip().casefold())
    if column is None:
        raise LayerError(
            "unknown_column",
            f"the layer has no column {name!r}",
            column=name,
            available=[str(c) for c in frame.columns],
        )
    return column
