from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Key = Annotated[str, msgspec.Meta(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_=-]+$")]
Clock = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class SubscriptionKeys(msgspec.Struct):
    p256dh: Key
    auth: Annotated[str, msgspec.Meta(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_=-]+$")]


class SubscriptionIn(msgspec.Struct):
    """What the browser's ``PushSubscription.toJSON()`` gives."""

    endpoint: Annotated[str, msgspec.Meta(min_length=10, max_length=1024)]
    keys: SubscriptionKeys


class SubscriptionOut(msgspec.Struct):
    id: int
    endpoint: str
    created_at: datetime


class Unsubscribe(msgspec.Struct):
    endpoint: Annotated[str, msgspec.Meta(min_length=10, max_length=1024)]


class PushKey(msgspec.Struct):
    public_key: str  # base64url, the browser's applicationServerKey


class NoticeOut(msgspec.Struct):
    id: int
    kind: str
    title: str
    body: str
    url: str
    at: datetime
    read: bool


class NoticePage(msgspec.Struct):
    items: list[NoticeOut]
    unread: int
    next_before: int | None  # pass as ``before`` for the older page; none at the end


NoticeId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class ReadIn(msgspec.Struct):
    """Mark ``ids`` read, or every notice up to and including ``upto``."""

    ids: Annotated[list[NoticeId], msgspec.Meta(max_length=500)] = []
    upto: NoticeId | None = None


class Unread(msgspec.Struct):
    unread: int


class Preferences(msgspec.Struct):
    off: list[str] = []  # kinds turned off (``kinds`` lists them)
    quiet_from: Clock | None = None  # local time; both or neither
    quiet_until: Clock | None = None
    kinds: list[str] = []  # every kind there is (answered, ignored when sent)
    urgent: list[str] = []  # the kinds quiet hours do not hold back (answered)
