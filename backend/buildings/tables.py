from piccolo.columns import DoublePrecision, ForeignKey, Integer, Serial, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.core.spatial import Footprint
from backend.grids.tables import Grid


class Building(Footprint, Table, tablename="building"):
    id: Serial  # the primary key Piccolo adds
    code = Varchar(length=32, unique=True)
    name = Varchar(length=128)
    address = Varchar(length=256)
    floors = Integer()
    households = Integer()
    grid = ForeignKey(Grid, null=True, on_delete=OnDelete.set_null, index=True)
    # The centre of the footprint's box, for distance questions (a patrol passing within 30 m).
    lon = DoublePrecision()
    lat = DoublePrecision()
