import msgspec

from backend.areas.schemas import AreaRef
from backend.party.schemas import GradeRef, StarOut


class PersonRef(msgspec.Struct):
    id: int
    name: str
    phone: str  # 138****5678 for those not signed in, unless the city publishes staff phones


class PostHolder(msgspec.Struct):
    post: str
    post_label: str
    person: PersonRef
    grade: GradeRef | None = None  # 三岗十八级, for community workers who have one
    active: bool = True  # false: the holder is off duty, and the post counts as vacant


class Staffing(msgspec.Struct):
    complete: bool
    missing: list[str]  # required posts nobody holds: leader, police, fulltime, parttime
    missing_labels: list[str]


class RedProperty(msgspec.Struct):
    """A 红色物业 serving the grid: its property company's party secretary holds a post."""

    code: str
    name: str
    address: str
    phone: str
    lon: float
    lat: float


class GridPage(msgspec.Struct):
    code: str
    name: str
    kind: str
    chain: list[AreaRef]  # city → district → street → community
    posts: list[PostHolder]
    staffing: Staffing
    buildings: int
    households: int
    bbox: tuple[float, float, float, float]
    red_properties: list[RedProperty] = []
    branch_stars: list[StarOut] = []  # the grid's party branch in its contests, newest first


class GridStaffing(msgspec.Struct):
    code: str
    name: str
    community_code: str
    staffing: Staffing


class Point(msgspec.Struct):
    lon: float
    lat: float


class Location(msgspec.Struct):
    """Where a point falls: its grid and every area above it. A point in the city but in no
    grid (a gap an imported city may leave) has no grid and the areas of the smallest one
    containing it."""

    point: Point  # WGS 84, after conversion from the request's crs
    crs: str  # the crs the request used
    grid: AreaRef | None
    community: AreaRef | None
    street: AreaRef | None
    district: AreaRef | None
    city: AreaRef | None
