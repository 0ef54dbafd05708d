from enum import StrEnum

from piccolo.columns import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.core.spatial import Footprint


class AreaLevel(StrEnum):
    city = "city"
    district = "district"
    street = "street"  # 街道 or 镇: the code's range (001–099, 100–199) tells which
    community = "community"  # 社区 or 村: likewise 001–199, 200–399


class Area(Footprint, Table, tablename="area"):
    id: Serial  # the primary key Piccolo adds
    code = Varchar(length=12, unique=True)
    name = Varchar(length=64)
    level = Varchar(length=16, choices=AreaLevel, index=True)
    parent: ForeignKey["Area"] = ForeignKey(
        "self", null=True, on_delete=OnDelete.restrict, index=True
    )
    updated_at = Timestamptz()
