from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from backend.areas.schemas import AreaRef

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Aware = Annotated[datetime, msgspec.Meta(tz=True)]  # ISO 8601 with an offset
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    work_unit: Unit
    home_community: Code  # a community's or village's code


class MemberOut(msgspec.Struct):
    id: int
    person_id: int
    name: str
    work_unit: str
    home_community: AreaRef
    registered_at: str
    confirmed_hours: float  # all time
    services: int  # needs with confirmed hours


class NeedIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID  # made by the phone; a retried send creates nothing new
    community_code: Code
    kind: Literal["volunteer", "wish"]
    title: Title
    place: Annotated[str, msgspec.Meta(max_length=256)]
    lon: float
    lat: float
    starts_at: Aware
    ends_at: Aware
    capacity: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    description: Text = ""
    crs: str = "wgs84"


class ClaimOut(msgspec.Struct):
    id: int
    need_id: int
    member_id: int
    person_id: int
    name: str
    work_unit: str
    status: str
    status_label: str
    hours: float | None
    note: str
    claimed_at: str
    reported_at: str | None
    confirmed_by: int | None
    confirmed_at: str | None


class NeedOut(msgspec.Struct):
    id: int
    client_id: str
    community: AreaRef
    kind: str
    kind_label: str
    title: str
    description: str
    place: str
    lon: float
    lat: float
    starts_at: str
    ends_at: str
    hours_max: float  # the window's length: the most a member may report
    capacity: int
    claimed: int
    created_by: int
    created_at: str
    mine: ClaimOut | None = None  # the asker's own claim
    claims: list[ClaimOut] | None = None  # every claim, for the community's staff


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    hours: float
    note: Text = ""


class RefuseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class UnitRow(msgspec.Struct):
    work_unit: str
    member_id: int
    name: str
    community_code: str
    community_name: str
    services: int  # needs with confirmed hours in the period
    hours: float  # confirmed hours in the period


class UnitReport(msgspec.Struct):
    """双报告: members of a work unit with their confirmed service hours over a period."""

    unit: str | None  # None: every unit in the asker's area
    date_from: str  # local dates, both included
    date_to: str
    members: int
    services: int
    hours: float
    rows: list[UnitRow]


class UnitCount(msgspec.Struct):
    work_unit: str
    members: int


class GradeIn(msgspec.Struct, forbid_unknown_fields=True):
    post: Annotated[str, msgspec.Meta(max_length=16)]
    grade: int


class GradeOut(msgspec.Struct):
    person_id: int
    name: str
    role: str
    area_code: str | None
    post: str
    post_label: str
    grade: int
    set_by: int
    set_at: str


class StarIn(msgspec.Struct, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    title: Annotated[str, msgspec.Meta(max_length=32)] = ""  # such as 最强党支部


class StarOut(msgspec.Struct):
    area_code: str
    period: str
    stars: int
    title: str
    set_by: int
    set_at: str


class GradeRef(msgspec.Struct):
    """A community worker's 三岗十八级, as the person and grid pages show it."""

    post: str
    post_label: str
    grade: int
