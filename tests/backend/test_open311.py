"""Open311 GeoReport v2: the pure mapping between cases and service requests, and the
read-only endpoints other city systems use (public fields only, never a phone)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.app import create_app
from backend.cases.categories import SEED
from backend.cases.states import Status
from backend.cases.tables import Case, CasePhoto
from backend.open311 import filters, formats, keys
from backend.open311.mapping import (
    PRIVATE_GROUPS,
    Names,
    case_id,
    open311_status,
    service_request,
    services,
    submission,
)
from backend.open311.tables import Open311Key
from tests.backend.case_steps import Driver, add_department_officer, demo_spot, sign_in

V2 = "/open311/v2"
NOW = datetime(2025, 5, 6, 9, tzinfo=UTC)


def row(**change) -> dict:
    base = {
        "id": 7,
        "status": "handling",
        "category": "1501",
        "description": "路灯不亮, 电话13812345678",
        "owner_code": "15030200100101",
        "department": None,
        "created_at": NOW,
        "updated_at": NOW + timedelta(hours=1),
        "due_at": NOW + timedelta(days=5),
        "address": "团结路3号",
        "lat": 39.65,
        "lon": 106.82,
        "contact_phone": "13812345678",
        "reporter": 3,
        "assignee": 4,
    }
    return {**base, **change}


NAMES = Names({"1501": "路灯不亮"}, {"15030200100101": "新华社区第1网格"}, {"cg": "城管"})


def test_a_case_becomes_a_service_request_with_public_fields_only():
    request = service_request(row(), NAMES, "https://x/api/photos/ab")
    assert (request.service_request_id, request.service_code, request.service_name) == (
        "7",
        "1501",
        "路灯不亮",
    )
    assert (request.status, request.status_notes) == ("open", "处置中")
    assert request.requested_datetime == "2025-05-06T09:00:00+00:00"
    assert request.updated_datetime == "2025-05-06T10:00:00+00:00"
    assert request.expected_datetime == "2025-05-11T09:00:00+00:00"
    assert request.agency_responsible == "新华社区第1网格"
    assert (request.lat, request.long) == (39.65, 106.82)
    assert request.description == "路灯不亮, 电话138****5678"
    assert request.media_url == "https://x/api/photos/ab"
    assert "13812345678" not in str(request) and "reporter" not in str(request)
    dispatched = service_request(row(department="cg", status="closed"), NAMES, None)
    assert (dispatched.agency_responsible, dispatched.status) == ("城管", "closed")
    assert dispatched.expected_datetime is None  # nothing is expected of a closed case


def test_every_status_is_open_or_closed():
    closed = {s for s in Status if open311_status(s) == "closed"}
    assert closed == {
        Status.closed,
        Status.rejected,
        Status.withdrawn,
        Status.voided,
        Status.merged,
    }


def test_categories_become_services_under_their_groups():
    rows = [
        {"code": "15", "name": "市政设施", "parent": None},
        {"code": "1502", "name": "井盖缺失", "parent": "15"},
        {"code": "1501", "name": "路灯不亮", "parent": "15"},
    ]
    found = services(rows)
    assert [(s.service_code, s.service_name, s.group) for s in found] == [
        ("1501", "路灯不亮", "市政设施"),
        ("1502", "井盖缺失", "市政设施"),
    ]
    # Every service has a definition: the priority a request may ask for, its time limits.
    assert all(s.type == "realtime" and s.metadata is True for s in found)


BASE_FORM = {
    "service_code": ["1501"],
    "lat": ["39.65"],
    "long": ["106.82"],
    "description": ["路灯不亮"],
}


def test_an_open311_form_becomes_a_submission():
    sent = {
        **BASE_FORM,
        "address_string": ["团结路3号"],
        "phone": ["138 1234 5678"],
        "email": ["ignored@example.com"],
        "attribute[priority]": ["urgent"],
    }
    s = submission(sent)
    assert (s.service_code, s.point, s.description) == ("1501", (106.82, 39.65), "路灯不亮")
    assert (s.address, s.phone, s.priority) == ("团结路3号", "13812345678", "urgent")
    assert submission(BASE_FORM).priority == "normal"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"service_code": []}, "service_code was not provided"),
        ({"lat": [], "long": []}, "lat and long, or an address_string, are needed"),
        ({"lat": [], "address_string": ["团结路"]}, "lat and long go together"),
        ({"lat": ["north"]}, "lat must be a number"),
        ({"long": ["nan"]}, "long must lie between"),
        ({"lat": ["91"]}, "lat must lie between"),
        ({"description": [" "]}, "description was not provided"),
        ({"description": ["x" * 2001]}, "at most 2000"),
        ({"service_code": ["1501", "0101"]}, "more than once"),
        ({"phone": ["call me"]}, "phone must be"),
        ({"attribute[colour]": ["red"]}, "no attribute 'colour'"),
        ({"attribute[priority]": ["soon"]}, "urgent, high, normal"),
        ({"attribute[priority][]": ["high", "urgent"]}, "urgent, high, normal"),
    ],
)
def test_a_bad_form_says_what_is_wrong(change, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        submission({**BASE_FORM, **change})


def test_an_address_alone_is_a_submission_to_be_located():
    s = submission({**BASE_FORM, "lat": [], "long": [], "address_string": ["团结社区3号楼"]})
    assert (s.point, s.address) == (None, "团结社区3号楼")


def test_xml_holds_what_xml_can_hold():
    doc = formats.xml("errors", formats.errors(400, "bad \x01input <&>"))
    error = ET.fromstring(doc).find("error")
    assert (error.findtext("code"), error.findtext("description")) == ("400", "bad input <&>")
    assert formats.split("1501.xml") == ("1501", "xml") and formats.split("1501") is None


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"status": "pending"}, "open or closed"),
        ({"start_date": "yesterday"}, "W3C"),
        ({"start_date": "2025-05-01T00:00:00Z", "end_date": "2025-04-01T00:00:00Z"}, "before"),
        ({"service_request_id": "1,x"}, "whole numbers"),
        ({"service_code": ",".join(str(i) for i in range(101))}, "at most 100"),
    ],
)
def test_bad_queries_say_what_is_wrong(query, problem):
    with pytest.raises(ValueError, match=problem):
        filters.parse(NOW, **query)


def test_dates_without_an_offset_are_utc_and_one_bound_spans_90_days():
    f = filters.parse(NOW, start_date="2025-01-01T08:00:00")
    assert (f.start, f.end) == (
        datetime(2025, 1, 1, 8, tzinfo=UTC),
        datetime(2025, 4, 1, 8, tzinfo=UTC),
    )
    assert filters.parse(NOW, end_date="2025-05-01T00:00:00+08:00").start == datetime(
        2025, 1, 30, 16, tzinfo=UTC
    )
    # An unencoded "+" arrives as a space, and means what the client meant.
    assert filters.parse(NOW, start_date="2025-01-01T08:00:00 08:00").start == datetime(
        2025, 1, 1, tzinfo=UTC
    )
    assert case_id(service_request(row(id=42), NAMES, None).service_request_id) == 42


def test_private_groups_are_groups_of_the_seed():
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    groups = {c["code"]: c["name"] for c in seed["categories"] if c["parent"] is None}
    assert {groups[g] for g in PRIVATE_GROUPS} == {"矛盾纠纷", "治安", "民生服务", "疫情防控"}


# ---------------------------------------------------------------------------------------------
# The endpoints, strictly as GeoReport v2 writes them, in both formats

CITY = "150300"  # 乌海市: the jurisdiction_id
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
ATTRIBUTE_FIELDS = [
    "variable",
    "code",
    "datatype",
    "required",
    "datatype_description",
    "order",
    "description",
]
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")


def xml_of(r, root: str) -> ET.Element:
    """The document of an XML answer, checked as the standard asks: text/xml in UTF-8,
    declared, its root element ``root``, no namespace."""
    assert r.headers["content-type"] == "text/xml; charset=utf-8", r.headers
    assert r.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), r.content[:80]
    doc = ET.fromstring(r.content)
    assert doc.tag == root, r.text
    return doc


def json_of(r):
    assert r.headers["content-type"] == "application/json", r.headers
    return r.json()


def as_json(element: ET.Element) -> dict[str, str | None]:
    """An element's fields as the JSON would give them, compared as text."""
    return {child.tag: child.text for child in element}


def text(value) -> str | None:
    """A JSON value as its XML element's text (XML has no empty string: an empty element)."""
    if value is None or value == "":
        return None
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def check_request(fields: dict[str, str | None]) -> None:
    assert list(fields) == REQUEST_FIELDS
    assert fields["service_request_id"] and fields["service_code"] and fields["service_name"]
    assert fields["status"] in ("open", "closed")
    assert W3C.match(fields["requested_datetime"]) and W3C.match(fields["updated_datetime"])
    assert fields["expected_datetime"] is None or W3C.match(fields["expected_datetime"])
    assert -90 <= float(fields["lat"]) <= 90 and -180 <= float(fields["long"]) <= 180


async def on_app(client: AsyncTestClient, query: Any) -> Any:
    """Run a query where the app runs: the test client serves it on an event loop of its own,
    whose database pool (PostgreSQL) is the one requests use."""

    async def run() -> Any:
        return await query

    return await anyio.to_thread.run_sync(client.blocking_portal.call, run)


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
async def city(scratch_database, demo_city):
    """Cases of each kind: an open request with a photo, a private dispute with one, a closed
    request, and a request the street gave to 城管."""
    await add_department_officer()
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        roles = (
            "resident",
            "grid_leader",
            "grid_worker",
            "community_staff",
            "street_staff",
            "city_admin",
        )
        driver = Driver(client, {role: await sign_in(client, role) for role in roles})
        spot = demo_spot(demo_city)
        ids = {
            "open": await driver.report(spot, description="路灯不亮, 电话13812345678"),
            "dispute": await driver.report(spot, category="1101", description="邻居噪音"),
            "closed": await driver.report(spot),
            "department": await driver.report(spot),
        }
        await driver.drive(ids["open"], "accepted")
        for name in ("open", "dispute"):
            r = await client.post(
                f"/api/cases/{ids[name]}/photos",
                files={"file": ("lamp.jpg", jpeg(), "image/jpeg")},
                headers=driver.sessions["resident"].headers,
            )
            assert r.status_code == 201, r.text
            ids[f"{name}_thumbnail"] = r.json()["thumbnail_url"]
        await driver.drive(ids["closed"], "closed")
        await driver.drive(ids["department"], "department")
        ids["due"] = (await driver.case(ids["open"], "grid_leader"))["due_at"]
        yield client, ids, driver, spot


async def test_discovery_names_the_endpoint_in_both_formats(city):
    client, *_ = city
    doc = xml_of(await client.get("/open311/discovery.xml"), "discovery")
    assert [c.tag for c in doc] == ["changeset", "contact", "key_service", "endpoints"]
    [endpoint] = doc.find("endpoints")
    assert endpoint.tag == "endpoint"
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url").endswith("/open311/v2")
    assert [f.text for f in endpoint.find("formats").iter("format")] == [
        "text/xml",
        "application/json",
    ]
    body = json_of(await client.get("/open311/discovery.json"))
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert body["changeset"] == doc.findtext("changeset") and body["key_service"]


async def test_services_and_their_definitions_in_both_formats(city):
    client, *_ = city
    doc = xml_of(await client.get(f"{V2}/services.xml"), "services")
    listed = json_of(await client.get(f"{V2}/services.json", params={"jurisdiction_id": CITY}))
    assert [e.tag for e in doc] == ["service"] * len(listed) and listed
    for element, service in zip(doc, listed, strict=True):
        assert [c.tag for c in element] == SERVICE_FIELDS == list(service)
        assert as_json(element) == {k: text(v) for k, v in service.items()}
    by_code = {s["service_code"]: s for s in listed}
    assert (by_code["1501"]["service_name"], by_code["1501"]["group"]) == ("路灯不亮", "市政设施")
    assert "15" not in by_code  # groups are not services
    assert by_code["1501"]["metadata"] is True and by_code["1501"]["type"] == "realtime"

    doc = xml_of(await client.get(f"{V2}/services/0401.xml"), "service_definition")
    definition = json_of(await client.get(f"{V2}/services/0401.json"))
    assert [c.tag for c in doc] == ["service_code", "attributes"] == list(definition)
    assert doc.findtext("service_code") == definition["service_code"] == "0401"
    attributes = doc.find("attributes")
    assert [a.tag for a in attributes] == ["attribute", "attribute"]
    priority, limits = attributes
    assert [c.tag for c in priority] == [*ATTRIBUTE_FIELDS, "values"]
    assert [c.tag for c in limits] == ATTRIBUTE_FIELDS
    assert (priority.findtext("code"), priority.findtext("datatype")) == (
        "priority",
        "singlevaluelist",
    )
    assert [(v.findtext("key"), v.findtext("name")) for v in priority.find("values")] == [
        ("urgent", "紧急"),
        ("high", "较急"),
        ("normal", "一般"),
    ]
    # 路面塌陷 is accepted within half an hour when urgent (categories.json).
    assert limits.findtext("variable") == "false" and "紧急 30 分钟" in limits.findtext(
        "description"
    )
    assert definition["attributes"][0]["values"][0] == {"key": "urgent", "name": "紧急"}
    assert definition["attributes"][1]["description"] == limits.findtext("description")


async def test_a_retired_category_is_no_service_any_more(city):
    client, _, driver, spot = city
    key = await issue_key(client, driver, "数字城管")
    r = await client.post(
        "/api/categories/0102/retire", headers=driver.sessions["city_admin"].headers
    )
    assert r.status_code == 200, r.text
    codes = {s["service_code"] for s in json_of(await client.get(f"{V2}/services.json"))}
    assert "0101" in codes and "0102" not in codes
    assert (await client.get(f"{V2}/services/0102.xml")).status_code == 404
    form = {"api_key": key, "service_code": "0102", "description": "道路不洁"}
    r = await client.post(
        f"{V2}/requests.json", data={**form, "lat": str(spot[1]), "long": str(spot[0])}
    )
    assert r.status_code == 404 and "0102" in r.json()[0]["description"]


async def test_requests_are_the_public_cases_without_phones_in_both_formats(city):
    client, ids, *_ = city
    r = await client.get(f"{V2}/requests.json")
    listed = json_of(r)
    # Newest first; the dispute is about people and never leaves.
    assert [int(x["service_request_id"]) for x in listed] == [
        ids["department"],
        ids["closed"],
        ids["open"],
    ]
    assert "13812345678" not in r.text and "contact" not in r.text and "reporter" not in r.text
    doc = xml_of(await client.get(f"{V2}/requests.xml"), "service_requests")
    assert [e.tag for e in doc] == ["request"] * 3
    for element, request in zip(doc, listed, strict=True):
        check_request(as_json(element))
        assert as_json(element) == {k: text(v) for k, v in request.items()}
    first = next(x for x in listed if x["service_request_id"] == str(ids["open"]))
    assert first["description"] == "路灯不亮, 电话138****5678"
    assert (first["status"], first["status_notes"], first["service_code"]) == (
        "open",
        "已立案",
        "1501",
    )
    due = datetime.fromisoformat(ids["due"]).replace(microsecond=0)  # Open311 shows seconds
    assert datetime.fromisoformat(first["expected_datetime"]) == due
    assert first["agency_responsible"] and first["lat"] and first["long"]
    given = next(x for x in listed if x["service_request_id"] == str(ids["department"]))
    assert given["agency_responsible"] == "城管"


async def test_media_url_is_a_public_thumbnail_of_public_cases_only(city):
    client, ids, driver, _ = city
    [one] = json_of(await client.get(f"{V2}/requests/{ids['open']}.json"))
    media = urlsplit(one["media_url"])
    assert media.scheme == "http" and re.fullmatch(
        r"/open311/v2/media/[0-9a-f]{32}\.jpg", media.path
    )
    r = await client.get(media.path)  # signed in as no one
    assert (r.status_code, r.headers["content-type"]) == (200, "image/jpeg"), r.text
    staff = await client.get(ids["open_thumbnail"], headers=driver.sessions["grid_leader"].headers)
    assert r.content == staff.content  # the case's thumbnail, not its full photo
    # The dispute has a thumbnail too, but its case is not public; nor is a photo's own id.
    dispute = await on_app(
        client, CasePhoto.select(CasePhoto.thumb_id).where(CasePhoto.case_id == ids["dispute"])
    )
    photo_id = ids["open_thumbnail"].split("/")[-2]  # /api/photos/{file_id}/thumbnail
    for name in (dispute[0]["thumb_id"], photo_id, "0" * 32, "..%2F..%2Fsecret"):
        r = await client.get(f"{V2}/media/{name}.jpg")
        assert r.status_code == 404, name
        assert xml_of(r, "errors")[0].findtext("code") == "404"


async def test_requests_are_filtered_as_the_standard_says(city):
    client, ids, *_ = city

    async def found(**params) -> list[int]:
        r = await client.get(f"{V2}/requests.json", params=params)
        assert r.status_code == 200, r.text
        return sorted(int(x["service_request_id"]) for x in r.json())

    assert await found(status="open") == sorted([ids["open"], ids["department"]])
    assert await found(status="closed") == [ids["closed"]]
    assert await found(status="open,closed", service_code="0101,1401") == []
    assert await found(service_code="1501", status="closed") == [ids["closed"]]
    # Ids override everything else, and a private case stays out even when named.
    asked = f"{ids['dispute']},{ids['open']}"
    assert await found(service_request_id=asked, status="closed") == [ids["open"]]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert await found(start_date=tomorrow) == []
    assert await found(end_date="2025-01-01T00:00:00Z") == []
    assert await found(jurisdiction_id=CITY, status="closed") == [ids["closed"]]
    # A "+" left unencoded, as many clients send it, arrives as a space and still counts:
    # an hour ago in Beijing time, which read as UTC would be seven hours ahead.
    since = (datetime.now(UTC) + timedelta(hours=8 - 1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    r = await client.get(f"{V2}/requests.xml?start_date={since}")
    assert len(xml_of(r, "service_requests")) == 3


async def test_errors_in_the_standard_shape_in_both_formats(city):
    client, ids, *_ = city
    r = await client.get(f"{V2}/requests/{ids['closed']}.xml")
    [one] = xml_of(r, "service_requests")
    check_request(as_json(one))
    assert (one.findtext("service_request_id"), one.findtext("status")) == (
        str(ids["closed"]),
        "closed",
    )
    for path in (
        f"requests/{ids['dispute']}",
        "requests/abc",
        "requests/99999999",
        "services/15",  # a group, not a service
        "services/9999",
        "nothing-here",  # no route: refused by the router, still in the standard's shape
    ):
        r = await client.get(f"{V2}/{path}.xml")
        [error] = xml_of(r, "errors")
        assert [c.tag for c in error] == ["code", "description"]
        assert (r.status_code, error.findtext("code")) == (404, "404") and error.findtext(
            "description"
        ), path
        r = await client.get(f"{V2}/{path}.json")
        [error] = json_of(r)
        assert (r.status_code, error["code"]) == (404, 404) and error["description"], path
    for path in (f"requests/{ids['open']}", f"requests/{ids['open']}.html"):
        r = await client.get(f"{V2}/{path}")  # no format asked: the standard's own, XML
        assert r.status_code == 404 and xml_of(r, "errors")[0].findtext("code") == "404"
    r = await client.get(f"{V2}/requests.json", params={"start_date": "yesterday"})
    assert r.status_code == 400
    assert r.json()[0]["code"] == 400 and "W3C" in r.json()[0]["description"]
    r = await client.get(f"{V2}/services.xml", params={"jurisdiction_id": "sfgov.org"})
    [error] = xml_of(r, "errors")
    assert r.status_code == 404 and "150300 (乌海市)" in error.findtext("description")
    r = await client.delete(f"{V2}/services.json")
    assert (r.status_code, r.json()[0]["code"]) == (405, 405)
    assert "GET" in r.headers["allow"]
    r = await client.get("/open311/services.json")  # not a version this server speaks
    assert (r.status_code, r.json()[0]["code"]) == (404, 404)
    r = await client.get("/api/nothing-here")  # the rest of the API keeps its own shape
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


# ---------------------------------------------------------------------------------------------
# Requests handed in by other city systems, with the api_key the city admin issued them


async def issue_key(client, driver: Driver, name: str) -> str:
    r = await client.post(
        "/api/open311/keys", json={"name": name}, headers=driver.sessions["city_admin"].headers
    )
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


async def test_keys_are_issued_listed_and_revoked_by_the_city_admin(city):
    client, _, driver, _ = city
    admin = driver.sessions["city_admin"].headers
    r = await client.post(
        "/api/open311/keys", json={"name": "x"}, headers=driver.sessions["street_staff"].headers
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert (await client.get("/api/open311/keys")).status_code == 401
    key = await issue_key(client, driver, "数字城管")
    assert key.startswith("o311_") and len(key) > 40
    r = await client.post("/api/open311/keys", json={"name": "数字城管"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "key_exists")
    for name in (" 数字城管", "", "x" * 65, "a\tb"):
        r = await client.post("/api/open311/keys", json={"name": name}, headers=admin)
        assert r.status_code in (400, 422), name
    # Kept hashed: the database holds no key.
    [row] = await on_app(client, Open311Key.select())
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(row, default=str)
    [listed] = (await client.get("/api/open311/keys", headers=admin)).json()
    assert (listed["name"], listed["last_used_at"], listed["revoked_at"]) == (
        "数字城管",
        None,
        None,
    )
    assert "api_key" not in listed
    r = await client.delete(f"/api/open311/keys/{quote('数字城管')}", headers=admin)
    assert r.status_code == 204, r.text
    r = await client.delete(f"/api/open311/keys/{quote('数字城管')}", headers=admin)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    [listed] = (await client.get("/api/open311/keys", headers=admin)).json()
    assert listed["revoked_at"] is not None
    assert (await issue_key(client, driver, "数字城管")) != key  # a new key replaces a leaked one


async def test_one_system_gets_one_live_key_however_many_admins_ask_at_once(city):
    client, _, driver, _ = city

    async def at_once():
        return await asyncio.gather(
            *(keys.create("网格通") for _ in range(6)), return_exceptions=True
        )

    made = await on_app(client, at_once())
    assert sum(isinstance(m, keys.NewKey) for m in made) == 1, made
    assert all(isinstance(m, keys.NewKey) or m.code == "key_exists" for m in made), made
    admin = driver.sessions["city_admin"].headers
    listed = (await client.get("/api/open311/keys", headers=admin)).json()
    assert [k["name"] for k in listed] == ["网格通"]


async def test_a_request_posted_with_a_key_becomes_an_open311_case(city):
    client, _, driver, spot = city
    key = await issue_key(client, driver, "数字城管")
    form = {
        "api_key": key,
        "jurisdiction_id": CITY,
        "service_code": "1501",
        "lat": str(spot[1]),
        "long": str(spot[0]),
        "address_string": "团结路3号",
        "description": "路灯不亮，晚上很黑",
        "phone": "13912345678",
        "email": "smith@example.com",
        "first_name": "三",
        "last_name": "张",
        "attribute[priority]": "high",
    }
    r = await client.post(f"{V2}/requests.xml", data=form)
    assert r.status_code == 201, r.text
    [answer] = xml_of(r, "service_requests")
    assert answer.tag == "request"
    assert [c.tag for c in answer] == ["service_request_id", "service_notice", "account_id"]
    made = int(answer.findtext("service_request_id"))
    assert answer.findtext("service_notice").startswith("已收到")
    assert answer.find("account_id").text is None

    case = await driver.case(made, "grid_leader")
    assert (case["source"], case["source_system"], case["kind"]) == (
        "open311",
        "数字城管",
        "request",
    )
    assert (case["category"], case["priority"], case["description"]) == (
        "1501",
        "high",
        "路灯不亮，晚上很黑",
    )
    assert (case["reporter_id"], case["status"], case["address"]) == (
        None,
        "submitted",
        "团结路3号",
    )
    assert abs(case["lon"] - spot[0]) < 1e-9 and case["grid_code"]
    r = await client.get(
        "/api/case-list",
        params={"source": "open311"},
        headers=driver.sessions["city_admin"].headers,
    )
    assert [c["id"] for c in r.json()["items"]] == [made]

    # Read back as any client reads it; then one more in JSON.
    [back] = json_of(await client.get(f"{V2}/requests/{made}.json"))
    assert (back["service_code"], back["status"], back["address"]) == ("1501", "open", "团结路3号")
    assert "13912345678" not in json.dumps(back)
    r = await client.post(f"{V2}/requests.json", data={**form, "attribute[priority]": "urgent"})
    assert r.status_code == 201, r.text
    [answer] = json_of(r)
    assert list(answer) == ["service_request_id", "service_notice", "account_id"]
    assert int(answer["service_request_id"]) == made + 1 and answer["account_id"] is None
    [listed] = (
        await client.get("/api/open311/keys", headers=driver.sessions["city_admin"].headers)
    ).json()
    assert listed["last_used_at"] is not None


async def test_a_request_with_an_address_alone_is_placed_where_the_geocoder_finds_it(city):
    client, _, driver, _ = city
    key = await issue_key(client, driver, "数字城管")
    staff = driver.sessions["grid_leader"].headers
    [building] = (
        await client.get("/api/geocode", params={"q": "号楼", "limit": 1}, headers=staff)
    ).json()
    assert building["kind"] == "building"
    address = f"{building['address']} {building['name']}"
    [where] = (
        await client.get("/api/geocode", params={"q": address, "limit": 1}, headers=staff)
    ).json()
    form = {"api_key": key, "service_code": "0101", "description": "楼下垃圾堆放"}
    r = await client.post(f"{V2}/requests.json", data={**form, "address_string": address})
    assert r.status_code == 201, r.text
    case = await driver.case(int(r.json()[0]["service_request_id"]), "city_admin")
    assert (case["lon"], case["lat"], case["address"]) == (where["lon"], where["lat"], address)
    assert case["source"] == "open311" and case["grid_code"]
    # No place of the city, or one too coarse to stand for a spot (the city itself): refused.
    for nowhere in ("火星基地", "乌海市"):
        r = await client.post(f"{V2}/requests.xml", data={**form, "address_string": nowhere})
        [error] = xml_of(r, "errors")
        assert r.status_code == 400 and "send lat and long" in error.findtext("description")


async def test_requests_without_a_valid_key_are_refused_in_the_standard_shape(city):
    client, _, driver, spot = city
    key = await issue_key(client, driver, "12345热线")
    form = {
        "service_code": "1501",
        "lat": str(spot[1]),
        "long": str(spot[0]),
        "description": "路灯不亮",
    }
    before = await on_app(client, Case.count())
    for sent, status, says in (
        (form, 403, "api_key was not provided"),
        ({**form, "api_key": "o311_" + "x" * 43}, 403, "Invalid api_key"),
        ({**form, "api_key": key, "jurisdiction_id": "sfgov.org"}, 404, "sfgov.org"),
        ({**form, "api_key": key, "service_code": "9999"}, 404, "9999"),
        ({**form, "api_key": key, "service_code": "15"}, 404, "'15'"),
        ({**form, "api_key": key, "lat": ""}, 400, "lat and long, or an address_string"),
        ({**form, "api_key": key, "lat": "0", "long": "0"}, 400, "outside every area"),
        ({**form, "api_key": key, "attribute[priority]": "now"}, 400, "attribute[priority]"),
    ):
        r = await client.post(f"{V2}/requests.xml", data=sent)
        [error] = xml_of(r, "errors")
        assert (r.status_code, error.findtext("code")) == (status, str(status)), r.text
        assert says in error.findtext("description"), r.text
        r = await client.post(f"{V2}/requests.json", data=sent)
        assert r.status_code == status and json_of(r)[0]["code"] == status, r.text
    # JSON is not what the standard posts: no form, so no key.
    r = await client.post(f"{V2}/requests.json", json={**form, "api_key": key})
    assert r.status_code == 403
    r = await client.delete(
        f"/api/open311/keys/{quote('12345热线')}", headers=driver.sessions["city_admin"].headers
    )
    assert r.status_code == 204
    r = await client.post(f"{V2}/requests.json", data={**form, "api_key": key})
    assert r.status_code == 403 and "Invalid api_key" in r.json()[0]["description"]
    assert await on_app(client, Case.count()) == before  # nothing refused was saved


async def test_each_key_has_a_budget_of_its_own(city):
    client, _, driver, _ = city
    key = await issue_key(client, driver, "网格通")
    # An unknown service: spends the key's budget, makes no case.
    form = {"api_key": key, "service_code": "9999", "lat": "39.6", "long": "106.8"}
    form["description"] = "井盖缺失"
    statuses = [
        (await client.post(f"{V2}/requests.json", data=form)).status_code for _ in range(61)
    ]
    assert statuses == [404] * 60 + [429]
    r = await client.post(f"{V2}/requests.xml", data=form)
    [error] = xml_of(r, "errors")
    assert (r.status_code, error.findtext("code")) == (429, "429") and r.headers["retry-after"]
    # Another system's key is not held back by it.
    other = await issue_key(client, driver, "另一系统")
    r = await client.post(f"{V2}/requests.json", data={**form, "api_key": other})
    assert r.status_code == 404
