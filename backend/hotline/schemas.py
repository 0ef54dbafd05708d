from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec

from backend.cases.schemas import Phone, Short, Text


class CallIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID  # made by the desk; sending the same call again makes no second case
    caller_phone: Phone
    caller_name: Annotated[str, msgspec.Meta(max_length=64)]
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    description: Text
    lon: float  # from the geocoder or picked on the map
    lat: float
    crs: str = "wgs84"
    address: Short = ""
    priority: Literal["urgent", "high", "normal"] = "normal"


class CallOut(msgspec.Struct):
    case_id: int
    tracking_code: str  # read out to the caller too, in case the text message is late
    status: str
    sms_sent: bool  # the caller was sent the tracking code
    sms_error: str | None  # why not: the error code of the SMS service


class Call(msgspec.Struct):
    """A call and its case, as the desk sees it: the caller in full."""

    case_id: int
    caller_phone: str
    caller_name: str
    taken_at: str
    category: str
    category_name: str
    description: str
    address: str
    status: str
    closed_at: str | None
    rating: int | None  # the case's, from a call back or from the caller's own tracking code
    callback_comment: str | None
    version: int


class CallerHistory(msgspec.Struct):
    phone: str
    calls: int  # how many calls this phone made to the centre's area: more than one repeats
    history: list[Call]  # newest first


class CallbackIn(msgspec.Struct, forbid_unknown_fields=True):
    # As the caller said: counts in 满意率 as a rating in the app does.
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Short | None = None
