import msgspec

from backend.areas.schemas import AreaRef
from backend.party.schemas import GradeRef


class PostHeld(msgspec.Struct):
    grid_code: str
    grid_name: str
    post: str
    post_label: str


class Me(msgspec.Struct):
    id: int
    name: str
    phone: str
    role: str
    role_label: str
    area: AreaRef | None
    posts: list[PostHeld]
    grade: GradeRef | None = None  # 三岗十八级, for a community worker who has one
