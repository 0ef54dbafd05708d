from enum import StrEnum

from piccolo.columns import Boolean, DoublePrecision, ForeignKey, Serial, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.areas.tables import Area
from backend.grids.tables import Grid


class PointKind(StrEnum):
    party_centre = "party_centre"  # 党群服务中心, at city, district, street or community level
    driver_home = "driver_home"  # 司机之家
    warm_station = "warm_station"  # 暖心驿站
    red_property = "red_property"  # 红色物业


KIND_LABELS = {
    "party_centre": "党群服务中心",
    "driver_home": "司机之家",
    "warm_station": "暖心驿站",
    "red_property": "红色物业",
}


class ServicePoint(Table, tablename="service_point"):
    id: Serial  # the primary key Piccolo adds
    code = Varchar(length=32, unique=True)
    name = Varchar(length=128)
    kind = Varchar(length=24, choices=PointKind, index=True)
    level = Varchar(length=16, null=True)
    area = ForeignKey(Area, null=True, on_delete=OnDelete.set_null)
    # 红色物业 serve a grid (网格"双书记"): the one their file names, or else the one they lie
    # in (``grid_located``), found again whenever grids or points are imported.
    grid = ForeignKey(Grid, null=True, on_delete=OnDelete.set_null)
    grid_located = Boolean(default=False)
    address = Varchar(length=256)
    hours = Varchar(length=64)
    phone = Varchar(length=32)
    lon = DoublePrecision(index=True)
    lat = DoublePrecision(index=True)
