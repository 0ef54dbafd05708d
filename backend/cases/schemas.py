from typing import Annotated, Literal
from uuid import UUID

import msgspec

from backend.cases.nearby import Similar

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9-]{5,20}$")]


class CaseIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID  # made by the phone; a retried send creates nothing new
    kind: Literal["request", "incident", "task"]
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    description: Text
    lon: float
    lat: float
    crs: str = "wgs84"
    address: Short = ""
    contact_phone: Phone | None = None
    priority: Literal["urgent", "high", "normal"] = "normal"


class PendingOut(msgspec.Struct):
    """A return, shelving, void or pause waiting for approval (``approve`` or ``refuse``)."""

    action: str  # request_return, request_shelve, request_void, pause
    by: int | None  # the person who asked
    reason: str
    review_date: str | None = None  # a shelving's


class CaseOut(msgspec.Struct):
    id: int
    client_id: str
    kind: str
    source: str  # app, anonymous, hotline, patrol, task, open311
    source_system: str | None  # the other city system that handed it over (Open311)
    category: str
    description: str
    lon: float
    lat: float
    address: str
    grid_code: str | None
    owner_code: str
    level: str
    status: str
    priority: str
    reporter_id: int | None
    contact_phone: str | None  # masked for those who do not need it
    assignee_id: int | None
    department: str | None
    due_at: str | None
    rework_count: int
    rating: int | None
    version: int
    created_at: str
    # What the asking person may do now (workflow × policy), for the app's buttons.
    actions: list[str] = []
    # On a new case only: open cases of the same category nearby, to join instead (附议).
    similar: list[Similar] = []
    # On one case read by its id: the name of the grid or area that owns it.
    owner_name: str | None = None
    pending: PendingOut | None = None
    supervise_due_at: str | None = None  # a 督办 order's own due time
    transfer_to: str | None = None  # 移交 waiting for this grid or area to accept or refuse it
    grid_history: list[str] = []  # grids it was placed in before grid_code, oldest first
    departments: list[str] = []  # 联办: departments joined to the lead ``department``
    merged_into: int | None = None  # 并案: a merged duplicate's main case
    # On one case read by its id: the duplicates merged into it, by id.
    merged: list[int] = []
    paused_at: str | None = None  # 挂起 since then (approved); the clock stands still


class SupportIn(msgspec.Struct, forbid_unknown_fields=True):
    """Where the person saying "me too" stands: a case they cannot read may be joined only
    from within 50 m of it, as ``/api/cases/nearby`` offered it to them."""

    lon: float
    lat: float
    crs: str = "wgs84"


class Supported(msgspec.Struct):
    id: int
    supporters: int
    added: bool  # False when this person had already said "me too"


class TransitionIn(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    version: int  # the version the client saw; a stale one gets 409
    reason: Short | None = None
    assignee: int | None = None
    department: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    result: Text | None = None
    photo: Short | None = None
    rating: int | None = None
    comment: Short | None = None
    extension_hours: float | None = None
    review_date: str | None = None
    due_hours: float | None = None  # supervise: the order's own time limit, in working hours
    target_code: Annotated[str, msgspec.Meta(max_length=16)] | None = None  # transfer
    main_case: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None  # merge


# The category tree (category_admin.py).
CategoryCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,16}$")]
CategoryName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"\S")]
PostName = Annotated[str, msgspec.Meta(min_length=1, max_length=24)]
DepartmentCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class LimitIn(msgspec.Struct, forbid_unknown_fields=True):
    hours: float
    calendar: bool = False  # True: calendar hours; False: the city's working time


class LimitOut(msgspec.Struct):
    hours: float
    calendar: bool


# {stage: {priority: limit}}: stages accept, dispatch, handle, close; priorities urgent,
# high, normal.
LimitsIn = dict[str, dict[str, LimitIn]]


class CategoryIn(msgspec.Struct, forbid_unknown_fields=True):
    code: CategoryCode
    name: CategoryName
    parent: CategoryCode | None = None  # None: a group (大类)
    post: PostName | None = None
    department: DepartmentCode | None = None
    limits: LimitsIn | None = None  # a category in a group: accept and close at least


class CategoryPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: CategoryName | msgspec.UnsetType = msgspec.UNSET
    parent: CategoryCode | msgspec.UnsetType | None = msgspec.UNSET
    post: PostName | msgspec.UnsetType | None = msgspec.UNSET
    department: DepartmentCode | msgspec.UnsetType | None = msgspec.UNSET
    limits: LimitsIn | msgspec.UnsetType = msgspec.UNSET  # the priorities given replace theirs


class CategoryOut(msgspec.Struct):
    code: str
    name: str
    parent: str | None
    post: str | None  # the grid post that receives it by default; None on a group
    department: str | None  # the department it usually goes to
    retired: bool  # takes no new case; old cases keep it
    limits_hours: dict[str, float]  # hours to close, by priority; empty on a group
    limits: dict[str, dict[str, LimitOut]]  # {stage: {priority: {hours, calendar}}}
