"""Cases ↔ Open311 GeoReport v2 service requests, and categories ↔ its services. Pure.

GeoReport v2 (https://wiki.open311.org/GeoReport_v2) is how city systems exchange service
requests. Its words and ours:

==========================  ==============================================================
Open311                     a case
==========================  ==============================================================
service_code, service_name  category code and name (leaves of the tree; groups are
                            ``group``)
service_request_id          id, as a string
status                      ``open`` while it is being worked or shelved (挂账), ``closed``
                            once closed, rejected, withdrawn or voided; ``status_notes``
                            says which, in the app's words
requested_datetime          created_at
updated_datetime            updated_at
expected_datetime           due_at, while open
agency_responsible          the department it is dispatched to, else the grid or area that
                            owns it
address, lat, long          address, WGS 84 point
media_url                   the first photo (served to those who may see the case)
==========================  ==============================================================

What is public is decided here: no reporter, no assignee, no contact phone, mobile numbers in
free text masked, and no case of a category that concerns people rather than places
(``PRIVATE_GROUPS``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec

from backend.cases.service import FINAL, STATUS_LABELS, Status
from backend.core.phones import masked_text

# Disputes between neighbours (矛盾纠纷), police matters (治安), hardship (民生服务) and health
# (疫情防控) name or point at people: they never leave the system through a public API.
PRIVATE_GROUPS: frozenset[str] = frozenset({"11", "13", "16", "17"})
CLOSED: frozenset[str] = frozenset({*FINAL, Status.closed})


class Service(msgspec.Struct):
    service_code: str
    service_name: str
    description: str
    metadata: bool  # no extra attributes to ask for (GET services/{code}.json would list them)
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class ServiceRequest(msgspec.Struct):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str
    address_id: str | None
    zipcode: str | None
    lat: float
    long: float
    media_url: str | None


@dataclass(frozen=True)
class Names:
    """Names the rows do not carry: categories, places (grids and areas), departments."""

    categories: Mapping[str, str]
    places: Mapping[str, str]
    departments: Mapping[str, str]


def open311_status(status: str) -> Literal["open", "closed"]:
    """Open311's word for one of our statuses.

    >>> open311_status("shelved"), open311_status("voided")
    ('open', 'closed')
    """
    return "closed" if status in CLOSED else "open"


def statuses_of(open311: str) -> list[str]:
    """Our statuses that one Open311 status stands for.

    >>> statuses_of("closed")
    ['closed', 'rejected', 'voided', 'withdrawn']
    """
    return sorted(s.value for s in Status if open311_status(s) == open311)


def services(categories: Sequence[Mapping[str, Any]]) -> list[Service]:
    """Open311 services of the category rows (code, name, parent, limits as JSON text): one per
    leaf, in code order, with its group's name. Private ones are listed too: they may be
    requested, only their requests are not published."""
    groups = {c["code"]: c["name"] for c in categories if c["parent"] is None}
    return [
        Service(
            service_code=c["code"],
            service_name=c["name"],
            description=f"{groups.get(c['parent'], '')}：{c['name']}",
            metadata=False,
            type="realtime",
            keywords=",".join(filter(None, [groups.get(c["parent"]), c["name"]])),
            group=groups.get(c["parent"], ""),
        )
        for c in sorted(categories, key=lambda c: c["code"])
        if c["parent"] is not None
    ]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def service_request(row: Mapping[str, Any], names: Names, media_url: str | None) -> ServiceRequest:
    """A case row as an Open311 service request."""
    status = open311_status(row["status"])
    department = row["department"]
    agency = (
        names.departments.get(department, department)
        if department
        else names.places.get(row["owner_code"], row["owner_code"])
    )
    return ServiceRequest(
        service_request_id=str(row["id"]),
        status=status,
        status_notes=STATUS_LABELS.get(row["status"], row["status"]),
        service_name=names.categories.get(row["category"], row["category"]),
        service_code=row["category"],
        description=masked_text(row["description"]),
        agency_responsible=agency,
        service_notice=None,
        requested_datetime=_iso(row["created_at"]) or "",
        updated_datetime=_iso(row["updated_at"]) or "",
        expected_datetime=_iso(row["due_at"]) if status == "open" else None,
        address=masked_text(row["address"]),
        address_id=None,
        zipcode=None,
        lat=row["lat"],
        long=row["lon"],
        media_url=media_url,
    )


def case_fields(params: Mapping[str, str]) -> dict[str, Any]:
    """The fields of a new case (``POST /api/cases``) from an Open311 POST requests.json form:
    a resident's request at the given point. ValueError names what is missing or bad.

    >>> case_fields({"service_code": "1501", "lat": "39.65", "long": "106.82",
    ...              "description": "路灯不亮", "address_string": "海勃湾区团结路",
    ...              "phone": "13812345678"})["lon"]
    106.82
    """
    missing = [k for k in ("service_code", "lat", "long", "description") if not params.get(k)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)} (a point is needed: lat and long)")
    try:
        lat, lon = float(params["lat"]), float(params["long"])
    except ValueError:
        raise ValueError("lat and long must be numbers") from None
    return {
        "kind": "request",
        "category": params["service_code"],
        "description": params["description"],
        "lon": lon,
        "lat": lat,
        "crs": "wgs84",
        "address": params.get("address_string", ""),
        "contact_phone": params.get("phone") or None,
    }


def case_id(service_request_id: str) -> int | None:
    """The case id an Open311 request id names, or None if it names none.

    >>> case_id("42"), case_id("0"), case_id("4.2"), case_id("9" * 30)
    (42, None, None, None)
    """
    text = service_request_id.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= 2**31 - 1 else None
