"""Open311 GeoReport v2: the pure mapping between cases and service requests, and the
read-only endpoints other city systems use (public fields only, never a phone)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.app import create_app
from backend.cases.categories import SEED
from backend.cases.states import Status
from backend.open311 import filters
from backend.open311.mapping import (
    PRIVATE_GROUPS,
    Names,
    case_fields,
    case_id,
    open311_status,
    service_request,
    services,
)
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
    assert closed == {Status.closed, Status.rejected, Status.withdrawn, Status.voided}


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
    assert all(s.type == "realtime" and s.metadata is False for s in found)


def test_an_open311_request_becomes_the_fields_of_a_case():
    fields = case_fields(
        {
            "service_code": "1501",
            "lat": "39.65",
            "long": "106.82",
            "description": "路灯不亮",
            "address_string": "团结路3号",
            "phone": "13812345678",
            "email": "ignored@example.com",
        }
    )
    assert fields == {
        "kind": "request",
        "category": "1501",
        "description": "路灯不亮",
        "lon": 106.82,
        "lat": 39.65,
        "crs": "wgs84",
        "address": "团结路3号",
        "contact_phone": "13812345678",
    }
    with pytest.raises(ValueError, match="lat, long"):
        case_fields({"service_code": "1501", "description": "x", "address_string": "团结路"})
    with pytest.raises(ValueError, match="numbers"):
        case_fields({"service_code": "1501", "description": "x", "lat": "n", "long": "e"})
    assert case_id(service_request(row(id=42), NAMES, None).service_request_id) == 42


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


# ---------------------------------------------------------------------------------------------
# The endpoints


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
async def city(scratch_database, demo_city):
    """Cases of each kind: an open request with a photo, a private dispute, a closed request,
    and a request the street gave to 城管."""
    await add_department_officer()
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        roles = ("resident", "grid_leader", "grid_worker", "community_staff", "street_staff")
        driver = Driver(client, {role: await sign_in(client, role) for role in roles})
        spot = demo_spot(demo_city)
        ids = {
            "open": await driver.report(spot, description="路灯不亮, 电话13812345678"),
            "dispute": await driver.report(spot, category="1101", description="邻居噪音"),
            "closed": await driver.report(spot),
            "department": await driver.report(spot),
        }
        await driver.drive(ids["open"], "accepted")
        r = await client.post(
            f"/api/cases/{ids['open']}/photos",
            files={"file": ("lamp.jpg", jpeg(), "image/jpeg")},
            headers=driver.sessions["resident"].headers,
        )
        assert r.status_code == 201, r.text
        ids["photo"] = r.json()["url"]
        await driver.drive(ids["closed"], "closed")
        await driver.drive(ids["department"], "department")
        ids["due"] = (await driver.case(ids["open"], "grid_leader"))["due_at"]
        yield client, ids


async def test_services_list_the_categories(city):
    client, _ = city
    r = await client.get(f"{V2}/services.json")
    assert r.status_code == 200
    by_code = {s["service_code"]: s for s in r.json()}
    assert by_code["1501"]["service_name"] == "路灯不亮"
    assert by_code["1501"]["group"] == "市政设施"
    assert "15" not in by_code  # groups are not services


async def test_requests_are_the_public_cases_without_phones(city):
    client, ids = city
    r = await client.get(f"{V2}/requests.json")
    assert r.status_code == 200, r.text
    listed = r.json()
    # Newest first; the dispute is about people and never leaves.
    assert [int(x["service_request_id"]) for x in listed] == [
        ids["department"],
        ids["closed"],
        ids["open"],
    ]
    assert "13812345678" not in r.text and "contact" not in r.text and "reporter" not in r.text
    first = next(x for x in listed if x["service_request_id"] == str(ids["open"]))
    assert first["description"] == "路灯不亮, 电话138****5678"
    assert (first["status"], first["status_notes"], first["service_code"]) == (
        "open",
        "已立案",
        "1501",
    )
    due = datetime.fromisoformat(ids["due"]).replace(microsecond=0)  # Open311 shows seconds
    assert datetime.fromisoformat(first["expected_datetime"]) == due
    assert first["media_url"].endswith(ids["photo"]) and first["media_url"].startswith("http")
    assert first["agency_responsible"] and first["lat"] and first["long"]
    given = next(x for x in listed if x["service_request_id"] == str(ids["department"]))
    assert given["agency_responsible"] == "城管"


async def test_requests_are_filtered_as_the_standard_says(city):
    client, ids = city

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


async def test_one_request_and_the_errors_open311_clients_read(city):
    client, ids = city
    r = await client.get(f"{V2}/requests/{ids['closed']}.json")
    assert r.status_code == 200
    [one] = r.json()
    assert (one["service_request_id"], one["status"]) == (str(ids["closed"]), "closed")
    for path in (
        f"requests/{ids['dispute']}.json",
        f"requests/{ids['open']}",
        "requests/abc.json",
        "requests/99999999.json",
        "nothing-here.json",  # no route: refused by the router, still in the standard's shape
    ):
        r = await client.get(f"{V2}/{path}")
        assert r.status_code == 404, path
        [error] = r.json()
        assert error["code"] == 404 and error["description"], path
    r = await client.get(f"{V2}/requests.json", params={"start_date": "yesterday"})
    assert r.status_code == 400
    assert r.json()[0]["code"] == 400 and "W3C" in r.json()[0]["description"]
    r = await client.delete(f"{V2}/services.json")
    assert (r.status_code, r.json()[0]["code"]) == (405, 405)
    assert "GET" in r.headers["allow"]
    r = await client.get("/open311/services.json")  # not a version this server speaks
    assert (r.status_code, r.json()[0]["code"]) == (404, 404)
    r = await client.get("/api/nothing-here")  # the rest of the API keeps its own shape
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


def test_private_groups_are_groups_of_the_seed():
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    groups = {c["code"]: c["name"] for c in seed["categories"] if c["parent"] is None}
    assert {groups[g] for g in PRIVATE_GROUPS} == {"矛盾纠纷", "治安", "民生服务", "疫情防控"}
