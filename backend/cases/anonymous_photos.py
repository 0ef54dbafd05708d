"""Photos of an anonymous request, with its tracking code as the only right: its holder adds
the photos they took (sent right after the report, or later from the phone's outbox), and sees
them beside the after-photos the staff took while handling it.

Photos are served under the code (``/api/anonymous/cases/{code}/photos/{file}``): the plain
``/api/photos/…`` addresses are for signed-in people who may see the case.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from backend.cases import photos, tracking
from backend.cases.photos import PhotoOut
from backend.cases.tables import Case, CasePhoto
from backend.core.errors import Conflict, NotFound
from backend.core.settings import Settings

# A holder adds what they saw, not an album: anything more is for the staff to ask for.
MAX_REPORTER_PHOTOS = 9
# Once a case is over, what it was about is settled; a new photo belongs to a reopened case.
_OVER = frozenset({"closed", "withdrawn", "voided", "rejected", "merged"})


class TrackedPhoto(msgspec.Struct):
    url: str
    thumbnail_url: str
    width: int
    height: int
    by: str  # "reporter" (the code's holder) or "staff" (taken while handling: an after-photo)
    at: str


async def add(
    code: str, data: bytes, client_id: uuid.UUID | None, settings: Settings
) -> tuple[PhotoOut, bool]:
    """A photo of the case the code opens, and whether this call stored it (False: a retry).
    409 ``case_over`` once the case is closed, withdrawn, voided or rejected; 409
    ``too_many_photos`` past ``MAX_REPORTER_PHOTOS``."""
    row = await _case(code, settings.secret_key)
    retry = client_id is not None and await CasePhoto.exists().where(
        (CasePhoto.client_id == client_id) & (CasePhoto.case_id == row["id"])
    )
    if not retry:
        if row["status"] in _OVER:
            raise Conflict("case_over", "this request is over: reopen it to add photos")
        mine = await CasePhoto.count().where(
            (CasePhoto.case_id == row["id"]) & CasePhoto.uploaded_by.is_null()
        )
        if mine >= MAX_REPORTER_PHOTOS:
            raise Conflict("too_many_photos", f"at most {MAX_REPORTER_PHOTOS} photos a request")
    stored, created = await photos.add(
        row["id"], row["owner_code"], data, client_id, None, settings
    )
    return _under(row["code"], stored), created


async def listed(code: str, secret: str) -> list[TrackedPhoto]:
    """The case's photos, oldest first: the holder's own and the staff's."""
    row = await _case(code, secret)
    rows = (
        await CasePhoto.select()
        .where(CasePhoto.case_id == row["id"])
        .order_by(CasePhoto.created_at)
        .order_by(CasePhoto.id)
    )
    return [
        TrackedPhoto(
            url=_url(row["code"], r["file_id"]),
            thumbnail_url=f"{_url(row['code'], r['file_id'])}/thumbnail",
            width=r["width"],
            height=r["height"],
            by="reporter" if r["uploaded_by"] is None else "staff",
            at=r["created_at"].isoformat(),
        )
        for r in rows
    ]


async def file_of(code: str, file_id: str, secret: str) -> dict[str, Any]:
    """The photo's row, if it is one of the case the code opens (404 alike otherwise)."""
    row = await _case(code, secret)
    photo = (
        await CasePhoto.select()
        .where((CasePhoto.file_id == file_id) & (CasePhoto.case_id == row["id"]))
        .first()
    )
    if photo is None:
        raise NotFound("photo", file_id)
    return photo


def _url(code: str, file_id: str) -> str:
    return f"/api/anonymous/cases/{code}/photos/{file_id}"


def _under(code: str, stored: PhotoOut) -> PhotoOut:
    file_id = stored.url.rsplit("/", 1)[-1]
    url = _url(code, file_id)
    return PhotoOut(stored.id, url, f"{url}/thumbnail", stored.width, stored.height)


async def _case(text: str, secret: str) -> dict[str, Any]:
    # Every unknown or malformed code is the same 404, as anonymous.read answers it.
    code = tracking.read(text)
    row = None
    if code is not None:
        key = tracking.key_of(secret, code)
        row = (
            await Case.select(Case.id, Case.status, Case.owner_code)
            .where(Case.tracking_key == key)
            .first()
        )
    if row is None or code is None:
        raise NotFound("tracking code", "****")
    return {**row, "code": tracking.formatted(code)}
