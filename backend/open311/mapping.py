"""Cases ↔ Open311 GeoReport v2 service requests, categories ↔ its services and their
definitions, and a POSTed form → the request it asks for. Pure.

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
media_url                   the public thumbnail of the first photo
==========================  ==============================================================

A POST hands in a resident's request (``submission``): service_code, a point (lat, long) or
an address_string, description, phone, and the one attribute a definition asks for, priority.

What is public is decided here: no reporter, no assignee, no contact phone, mobile numbers in
free text masked, and no case of a category that concerns people rather than places
(``PRIVATE_GROUPS``, the cases feature's rule, which its OGC ``cases`` collection follows too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec

from backend.cases.collection import PRIVATE_GROUPS as PRIVATE_GROUPS
from backend.cases.service import FINAL, PRIORITIES, STATUS_LABELS, Status
from backend.core.phones import masked_text

CLOSED: frozenset[str] = frozenset({*FINAL, Status.closed})


class Service(msgspec.Struct):
    service_code: str
    service_name: str
    description: str
    metadata: bool  # True: GET services/{code} lists the attributes a request may answer
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


class Value(msgspec.Struct):
    key: str
    name: str


class Attribute(msgspec.Struct, omit_defaults=True):
    variable: bool  # False: shown to the person, nothing to answer
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[Value] | None = None  # of the list datatypes only


class ServiceDefinition(msgspec.Struct):
    service_code: str
    attributes: list[Attribute]


class Endpoint(msgspec.Struct):
    specification: str
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class Discovery(msgspec.Struct):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[Endpoint]


PRIORITY_NAMES: dict[str, str] = dict(zip(PRIORITIES, ("紧急", "较急", "一般"), strict=True))
# When what the definitions say last changed (the standard's changeset: clients refresh what
# they cached when it moves); the categories themselves change only by a new seed.
CHANGESET = "2026-12-07"


def _hours(hours: float) -> str:
    return f"{hours * 60:g} 分钟" if hours < 1 else f"{hours:g} 小时"


def _limits(title: str, hours: Mapping[str, float]) -> str:
    return f"{title}：" + "、".join(
        f"{PRIORITY_NAMES[p]} {_hours(hours[p])}" for p in PRIORITIES if p in hours
    )


def definition(category: Mapping[str, Any]) -> ServiceDefinition:
    """The service definition of a leaf category (code, accept_hours and limits as JSON text):
    the priority a request may ask for, and the time limits it is handled in.

    >>> d = definition({"code": "0401", "accept_hours": '{"urgent": 0.5, "normal": 2}',
    ...                 "limits": '{"urgent": 2, "normal": 24}'})
    >>> [(a.code, a.variable) for a in d.attributes]
    [('priority', True), ('time_limits', False)]
    >>> print(d.attributes[1].description)
    受理时限：紧急 30 分钟、一般 2 小时；办结时限：紧急 2 小时、一般 24 小时
    """
    accept, close = json.loads(category["accept_hours"]), json.loads(category["limits"])
    return ServiceDefinition(
        service_code=category["code"],
        attributes=[
            Attribute(
                variable=True,
                code="priority",
                datatype="singlevaluelist",
                required=False,
                datatype_description="一般 when not answered",
                order=1,
                description="紧急程度",
                values=[Value(key, name) for key, name in PRIORITY_NAMES.items()],
            ),
            Attribute(
                variable=False,
                code="time_limits",
                datatype="string",
                required=False,
                datatype_description=None,
                order=2,
                description=f"{_limits('受理时限', accept)}；{_limits('办结时限', close)}",
            ),
        ],
    )


def discovery(base_url: str) -> Discovery:
    """The service discovery document of this server's one GeoReport v2 endpoint."""
    return Discovery(
        changeset=CHANGESET,
        contact="The city administrator of this Wangge installation (市管理员).",
        key_service=(
            "Ask the city administrator for an api_key for your system: "
            "wangge open311-key create NAME, or POST /api/open311/keys."
        ),
        endpoints=[
            Endpoint(
                specification="http://wiki.open311.org/GeoReport_v2",
                url=f"{base_url}/open311/v2",
                changeset=CHANGESET,
                type="production",
                formats=["text/xml", "application/json"],
            )
        ],
    )


def open311_status(status: str) -> Literal["open", "closed"]:
    """Open311's word for one of our statuses.

    >>> open311_status("shelved"), open311_status("voided")
    ('open', 'closed')
    """
    return "closed" if status in CLOSED else "open"


def statuses_of(open311: str) -> list[str]:
    """Our statuses that one Open311 status stands for.

    >>> statuses_of("closed")
    ['closed', 'merged', 'rejected', 'voided', 'withdrawn']
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
            metadata=True,
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


@dataclass(frozen=True)
class Submission:
    """What a POST requests form asks for, checked: a resident's request at a WGS 84 point, or
    at the address the city's geocoder finds for ``address`` (``point`` None)."""

    service_code: str
    point: tuple[float, float] | None  # lon, lat
    address: str
    description: str
    phone: str | None
    priority: str


_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_PHONE = re.compile(r"^\+?[0-9-]{5,20}$")
MAX_DESCRIPTION = 2000
MAX_ADDRESS = 200


def _one(form: Mapping[str, Sequence[str]], name: str) -> str:
    values = [v.strip() for v in form.get(name, ()) if v.strip()]
    if len(values) > 1:
        raise ValueError(f"{name} was given more than once")
    return values[0] if values else ""


def _coordinate(text: str, name: str, bound: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number (WGS 84 degrees)") from None
    if not -bound <= value <= bound:  # also false for nan
        raise ValueError(f"{name} must lie between -{bound:g} and {bound:g}")
    return value


def _answers(form: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """The ``attribute[code]=value`` (and ``attribute[code][]=value``) answers, by code."""
    answers: dict[str, list[str]] = {}
    for key, values in form.items():
        found = _ATTRIBUTE.match(key)
        if found:
            answers.setdefault(found[1], []).extend(v.strip() for v in values if v.strip())
    return answers


def submission(form: Mapping[str, Sequence[str]]) -> Submission:
    """The request a POST requests form describes (every value of each field, as sent);
    ValueError says what is missing or wrong. Fields the standard lets a client send but a
    case has no place for (email, names, device_id, account_id, media_url) are not read.

    >>> s = submission({"service_code": ["1501"], "lat": ["39.65"], "long": ["106.82"],
    ...                 "description": ["路灯不亮"], "attribute[priority]": ["high"]})
    >>> s.point, s.priority, s.phone
    ((106.82, 39.65), 'high', None)
    """
    service_code = _one(form, "service_code")
    if not service_code:
        raise ValueError("service_code was not provided")
    lat_text, lon_text = _one(form, "lat"), _one(form, "long")
    address = _one(form, "address_string")
    if not ((lat_text and lon_text) or address):
        raise ValueError(
            "lat and long, or an address_string, are needed: a request is placed on the "
            "city's grids by its point (address_id alone is not enough)"
        )
    if bool(lat_text) != bool(lon_text):
        raise ValueError("lat and long go together: send both, or an address_string alone")
    description = _one(form, "description")
    if not description:
        raise ValueError("description was not provided: a request says what is wrong")
    if len(description) > MAX_DESCRIPTION:
        raise ValueError(f"description may be at most {MAX_DESCRIPTION} characters")
    if len(address) > MAX_ADDRESS:
        raise ValueError(f"address_string may be at most {MAX_ADDRESS} characters")
    phone = re.sub(r"[\s()]", "", _one(form, "phone")) or None
    if phone is not None and not _PHONE.match(phone):
        raise ValueError("phone must be a phone number: digits, an optional + and dashes")
    priority = "normal"
    for code, values in _answers(form).items():
        if code != "priority":
            raise ValueError(f"no attribute {code!r} to answer: the service definition lists them")
        if len(values) != 1 or values[0] not in PRIORITY_NAMES:
            raise ValueError(f"attribute[priority] is one of {', '.join(PRIORITY_NAMES)}")
        priority = values[0]
    return Submission(
        service_code=service_code,
        point=(_coordinate(lon_text, "long", 180), _coordinate(lat_text, "lat", 90))
        if lat_text
        else None,
        address=address,
        description=description,
        phone=phone,
        priority=priority,
    )


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
