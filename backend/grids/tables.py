from enum import StrEnum

from piccolo.columns import ForeignKey, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.areas.tables import Area
from backend.core.spatial import Footprint
from backend.people.tables import Person


class GridKind(StrEnum):
    community = "community"  # 城市社区网格
    village = "village"  # 农村网格
    dedicated = "dedicated"  # 专属网格: a school, a hospital, an industrial park


class Post(StrEnum):
    """一格一长一警一专多兼, plus the grid's two party secretaries (网格"双书记"): the branch
    built on the grid (支部建在网格上) and, where a 红色物业 serves the grid, the property
    company's. The secretaries are not part of the staffing rule (``staffing.REQUIRED_POSTS``)."""

    leader = "leader"
    police = "police"
    fulltime = "fulltime"
    parttime = "parttime"
    party_secretary = "party_secretary"
    property_party_secretary = "property_party_secretary"


POST_LABELS = {
    "leader": "网格长",
    "police": "网格警",
    "fulltime": "专职网格员",
    "parttime": "兼职网格员",
    "party_secretary": "网格党支部书记",
    "property_party_secretary": "物业党支部书记",
}


class Grid(Footprint, Table, tablename="grid"):
    id: Serial  # the primary key Piccolo adds
    code = Varchar(length=16, unique=True)
    name = Varchar(length=64)
    community = ForeignKey(Area, null=False, on_delete=OnDelete.restrict, index=True)
    kind = Varchar(length=16, choices=GridKind)
    updated_at = Timestamptz()


class GridPost(Table, tablename="grid_post"):
    id: Serial  # the primary key Piccolo adds
    grid = ForeignKey(Grid, null=False, on_delete=OnDelete.cascade, index=True)
    # Indexed: every signed-in request reads its person's posts (backend/core/territory.py).
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade, index=True)
    post = Varchar(length=24, choices=Post)
    since = Timestamptz()
    # A unique index on (grid, person, post) is created by the migration: SQLite cannot add
    # Piccolo's table constraints with ALTER TABLE.
