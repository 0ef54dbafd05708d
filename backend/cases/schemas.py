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
