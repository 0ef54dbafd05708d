"""Every operation of the OpenAPI schema fed odd input, on both databases: the answer is never
a 5xx, and a 4xx always speaks the error shape ``{"status", "code", "reason"}`` (Open311's own
shape on its routes, in JSON or XML as asked).

The cases are generated from the schema itself, so a route added later is swept too: odd path
parameters, query parameters of the wrong type or out of range or repeated, bodies that are
not JSON or not the schema's shape, fields of the wrong type or size, multipart without its
file. What the schema leaves free-form (a batch's positions, an uploaded layer file) gets odd
values of its own. A refused body carrying a value the database may refuse mid-write (a NUL,
a time near the year 9999) must leave every table as it was.

Each route is one test, sent as a city admin, or also as the first role that may do what the
admin may not; every third route is also sent as a resident, whose refusals take other
branches.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import msgspec
import PIL.Image
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from piccolo.engine import Engine

from backend.app import create_app
from backend.core.db import registry, use_engine
from backend.core.settings import Settings
from backend.demo import DEMO_PASSWORD
from backend.imports.export import KINDS as IMPORT_KINDS
from geo.demo import DEMO_GRID_CODE
from tests.backend.case_steps import COMMUNITY, demo_spot, report_body, sign_in
from tests.conftest import _database_copy

METHODS = ("get", "post", "put", "patch", "delete")
# Only read for its schema: the app is never started, so no database is opened.
SCHEMA = create_app(
    Settings(data_dir=Path("unused"), secret_key="s" * 40)
).openapi_schema.to_schema()
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in METHODS
)
RESIDENT_SAMPLE = set(OPERATIONS[::3])
TABLES = [table for app in registry().app_configs.values() for table in app.table_classes]
COUNT_ROWS = "SELECT " + ", ".join(
    f'(SELECT count(*) FROM "{t._meta.tablename}") AS "{t._meta.tablename}"' for t in TABLES
)
# Values that pass validation and are refused by the database, if at all, in the middle of a
# write: a refusal of these must leave every table as it was.
DEEP_VALUES = ("NUL", "9999", "1 MB")
DOERS = ("community_staff", "grid_worker")
ROLES = ("city_admin", "resident", *DOERS)

MB = 1_000_000
TOMORROW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)

GEOJSON = msgspec.json.encode(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "x", "name": "x"},
                "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
            }
        ],
    }
)


def png() -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", (8, 8)).save(out, "PNG")
    return out.getvalue()


PHOTO = ("photo.png", png(), "image/png")

ODD_PATH = [
    str(2**63),
    str(-(2**63) - 1),
    "-1",
    "0",
    "abc",
    "1.5",
    "1e309",
    "NaN",
    "١٢",  # Arabic-Indic digits: int() takes them
    "a" * 5000,
    "%00",
    "a%00b",
    "%FF",
    "%E2%80%AE",
    "..%2F..%2Fetc%2Fpasswd",
]
ODD_NUMBER = ["abc", str(2**63), str(-(2**63) - 1), "-1", "0", "1e309", "NaN", "inf", "", "1.5"]
ODD_BOOLEAN = ["maybe", "", "2", "NaN"]
# A lone surrogate cannot be put in a URL at all: "not UTF-8" below is the nearest thing.
ODD_TEXT = ["", "a" * 5000, "9" * 400, "NaN", "\x00", "🦄", "..", "*", "%", "'\""]


@dataclass
class Case:
    label: str
    method: str
    url: str
    params: list[tuple[str, str]] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sweep:
    client: AsyncTestClient
    engine: Engine  # the database's, for queries from the test's own event loop
    sessions: dict[str, dict[str, str]]
    known: dict[str, str]
    query: dict[str, str]


async def claimed_need(
    client: AsyncTestClient, sessions: dict[str, dict[str, str]], spot: tuple[float, float]
) -> tuple[str, str]:
    """A volunteer need of the demo community, and the resident's claim of a place on it."""
    start = datetime.now(UTC) + timedelta(days=1)
    need = {
        "client_id": str(uuid.uuid4()),
        "community_code": COMMUNITY,
        "kind": "volunteer",
        "title": "清扫楼道",
        "place": "3号楼",
        "lon": spot[0],
        "lat": spot[1],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 5,
    }
    r = await client.post("/api/party/needs", json=need, headers=sessions["community_staff"])
    assert r.status_code == 201, r.text
    need_id = str(r.json()["id"])
    member = {"work_unit": "市图书馆", "home_community": COMMUNITY}
    r = await client.put("/api/party/me", json=member, headers=sessions["resident"])
    assert r.status_code in (200, 201), r.text
    r = await client.post(f"/api/party/needs/{need_id}/claims", headers=sessions["resident"])
    assert r.status_code in (200, 201), r.text
    return need_id, str(r.json()["id"])


@pytest_asyncio.fixture(scope="module")
async def sweep(city_template, demo_city, tmp_path_factory) -> AsyncIterator[Sweep]:
    """One app on its own copy of the demo city: the sweep may succeed at writing things."""
    kind, template = city_template
    async with (
        _database_copy(kind, template, tmp_path_factory.mktemp(f"sweep-{kind}")) as db,
        AsyncTestClient(app=create_app(db.settings)) as client,
    ):
        signed = {role: await sign_in(client, role) for role in ROLES}
        sessions = {role: session.headers for role, session in signed.items()}
        spot = demo_spot(demo_city)
        r = await client.post("/api/cases", json=report_body(spot), headers=sessions["resident"])
        assert r.status_code == 201, r.text
        case_id = str(r.json()["id"])
        task = {"client_id": str(uuid.uuid4()), "area_code": COMMUNITY, "target": "grid"}
        admin = sessions["city_admin"]
        r = await client.post("/api/tasks", json=task | {"title": "x"}, headers=admin)
        assert r.status_code == 201, r.text
        broadcast_id = str(r.json()["id"])
        r = await client.get("/api/task-items", params={"broadcast": broadcast_id}, headers=admin)
        item_id = str(r.json()[0]["id"])
        need_id, claim_id = await claimed_need(client, sessions, spot)
        known = {
            "case_id": case_id,
            "broadcast_id": broadcast_id,
            "item_id": item_id,
            "need_id": need_id,
            "claim_id": claim_id,
            "person_id": str(signed["city_admin"].person_id),
            "code": COMMUNITY,
            "area_code": COMMUNITY,
            "feature_id": DEMO_GRID_CODE,
            "name": "grids",
            "kind": "grids",
            "level": "community",
            "period": "2026-10",
            "day": date.today().isoformat(),
        }
        query = {
            "lon": str(spot[0]),
            "lat": str(spot[1]),
            "category": "1501",
            "scope": COMMUNITY,
            "area": COMMUNITY,
            "period": "2026-10",
            "level": "community",
            "unit": COMMUNITY,
            "indicator": "close_rate",
        }
        yield Sweep(client, db.engine, sessions, known, query)


@pytest.fixture(autouse=True)
def _bind_sweep_engine(request: pytest.FixtureRequest) -> None:
    if "sweep" in request.fixturenames:
        use_engine(request.getfixturevalue("sweep").client.app.state.engine)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def kinds(schema: dict[str, Any]) -> set[str]:
    """The JSON types a (possibly nullable) schema allows."""
    schema = resolve(schema)
    if "oneOf" in schema:
        return set().union(*(kinds(s) for s in schema["oneOf"]))
    t = schema.get("type", "string")
    return set(t) if isinstance(t, list) else {t}


def plain(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of a nullable schema."""
    schema = resolve(schema)
    for s in schema.get("oneOf", []):
        if resolve(s).get("type") != "null":
            return resolve(s)
    return schema


def example(name: str, schema: dict[str, Any], spot: tuple[str, str]) -> Any:
    """A plausible valid value, so that one odd field is the only thing wrong with a body."""
    s = plain(schema)
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    by_name = {
        "lon": float(spot[0]),
        "lat": float(spot[1]),
        "category": "1501",
        "phone": "13900000001",
        "contact_phone": "13812345678",
        "password": DEMO_PASSWORD,
        "crs": "wgs84",
        "kind": "flood",
        "action": "accept",
        "starts_at": TOMORROW.isoformat(),
        "ends_at": (TOMORROW + timedelta(hours=2)).isoformat(),
        "weights": {"close_rate": 1.0},
        "title": str(uuid.uuid4()),
    }
    if name in by_name:
        return by_name[name]
    if name.endswith(("code", "community")):
        return COMMUNITY
    t = s.get("type")
    if t == "integer":
        return int(s.get("minimum", 1))
    if t == "number":
        return 1.5
    if t == "boolean":
        return True
    if t == "array":
        return []
    if t == "object":
        return {}
    fmt = s.get("format")
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return TOMORROW.isoformat()
    return "x"


def odd_values(schema: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Values of the wrong type or beyond the range of a body field."""
    types = kinds(schema)
    s = plain(schema)
    yield "a list", []
    yield "an object", {"a": 1}
    if "null" not in types:
        yield "null", None
    if "string" in types:
        yield "a number for text", 12
        yield "true for text", True
        yield "1 MB of text", "a" * MB
        yield "5000 characters", "é" * 5000
        yield "empty text", ""
        yield "NUL", "a\x00b"
        yield "a lone surrogate", raw('"\\ud800"')
        if s.get("format") in ("date-time", "date"):
            for when in ("2026-13-45", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"):
                yield when, when
    if types & {"integer", "number"}:
        yield "text for a number", "1"
        yield "true for a number", True
        for text in ("1e309", "-1e309", "NaN", "Infinity", str(2**63), str(-(2**63) - 1), "1e18"):
            yield text, raw(text)
        yield "-1", -1
        yield "0", 0
        yield "1.5", 1.5
    if "boolean" in types:
        yield "text for a boolean", "yes"
        yield "1 for a boolean", 1
    if "array" in types:
        yield "a list of junk", [1, "x", None, [], {"lon": raw("1e309")}]
        yield "5001 items", [{}] * 5001
    if "object" in types:
        yield "text for a value", {"x": "a"}
        yield "an empty key", {"": 1}
        yield "a huge value", {"x": raw("1e309")}
        yield "a long key", {"k" * 5000: 1}


def raw(text: str) -> msgspec.Raw:
    """A JSON token sent as written, such as the 1e309 or NaN msgspec would not write."""
    return msgspec.Raw(text.encode())


encode = msgspec.json.encode


JSON = {"content-type": "application/json"}


def json_cases(method: str, url: str, schema: dict[str, Any], spot: tuple[str, str]) -> list[Case]:
    schema = resolve(schema)
    props = schema.get("properties", {})
    base = {name: example(name, props[name], spot) for name in schema.get("required", [])}

    def body(label: str, content: bytes, headers: dict[str, str] = JSON) -> Case:
        # A client_id and title of its own for each case, lest the answer to an earlier case
        # (an idempotent replay, an open task of the same title) be the answer to this one.
        for name in ("client_id", "title"):
            if isinstance(base.get(name), str):
                content = content.replace(base[name].encode(), str(uuid.uuid4()).encode())
        return Case(f"body: {label}", method, url, kwargs={"content": content, "headers": headers})

    cases = [
        body("as documented", encode(base)),
        body("not JSON", b"{x"),
        body("empty", b""),
        body("not UTF-8", b'{"a": "\xff\xfe"}'),
        body("null", b"null"),
        body("a list", b"[]"),
        body("a list of the object", encode([base])),
        body("text", b'"s"'),
        body("a huge number", b"1e309"),
        body("NaN", b"NaN"),
        body("nested 100000 deep", b"[" * 100_000 + b"]" * 100_000),
        body("no fields", b"{}"),
        body("an unknown field", encode(base | {"zzz": 1})),
        body("a duplicate field", encode(base)[:-1] + b', "zzz": 1, "zzz": 2}'),
        body("as form data", b"a=1", {"content-type": "application/x-www-form-urlencoded"}),
        body("as text/plain", encode(base), {"content-type": "text/plain"}),
        body("1 MB of JSON", encode(base | {"zzz": "a" * MB})),
    ]
    for name in schema.get("required", []):
        cases.append(body(f"without {name}", encode({k: v for k, v in base.items() if k != name})))
    for name, s in props.items():
        for label, value in odd_values(s):
            cases.append(body(f"{name} = {label}", encode(base | {name: value})))
    # Each alone is refused as out of order (an end before its start); together they are not.
    times = [name for name, s in props.items() if plain(s).get("format") == "date-time"]
    late = {name: f"9999-12-31T{20 + i}:00:00-12:00" for i, name in enumerate(times)}
    if late:
        cases.append(body("every time near the year 9999", encode(base | late)))
    return cases


def free_form_bodies(path: str, spot: tuple[str, str]) -> Iterator[tuple[str, Any]]:
    """Bodies with parts the schema leaves free-form: a batch's positions are each checked
    on their own, so that one bad fix does not cost the others."""
    if path != "/api/positions/batch":
        return
    fix = {
        "lon": float(spot[0]),
        "lat": float(spot[1]),
        "accuracy": 5,
        "at": datetime.now(UTC).isoformat(),
    }
    odd = {
        "at": [
            "9999-12-31T23:59:59-12:00",
            "0001-01-01T00:00:00+14:00",
            "2026-13-45T00:00:00Z",
            "2026-11-26T08:00:00",
            12,
            None,
            "a" * 5000,
        ],
        "lon": [raw("1e309"), raw("NaN"), "106", True, None],
        "lat": [raw("-1e309"), 1e300],
        "accuracy": [0, -1, raw("1e309"), "5"],
        "crs": ["junk", "a\x00b", 5, ["wgs84"]],
    }
    for name, values in odd.items():
        for value in values:
            yield (
                f"a position with {name} = {str(value)[:40]!r}",
                {"positions": [fix | {name: value}]},
            )
    for item in (1, "x", None, [fix], {}):
        yield f"a position that is {item!r:.40}", {"positions": [item, fix]}


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


def feature_collection(*features: str) -> bytes:
    return ('{"type": "FeatureCollection", "features": [' + ", ".join(features) + "]}").encode()


def feature(geometry: str, properties: str = '{"code": "15030200100199", "name": "x"}') -> str:
    return f'{{"type": "Feature", "properties": {properties}, "geometry": {geometry}}}'


SQUARE = "[[[106.8, 39.7], [106.81, 39.7], [106.81, 39.71], [106.8, 39.7]]]"
ODD_LAYERS = {
    "junk.geojson": b"{x",
    "list.json": b"[]",
    "empty.geojson": feature_collection(),
    "nan.geojson": feature_collection(
        feature(
            '{"type": "Polygon", "coordinates": [[[NaN, 1e309], [0, 0], [1, 1], [NaN, 1e309]]]}'
        )
    ),
    "two-points.geojson": feature_collection(
        feature('{"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}')
    ),
    "no-geometry.geojson": feature_collection(feature("null")),
    "odd-properties.geojson": feature_collection(
        feature(f'{{"type": "Polygon", "coordinates": {SQUARE}}}', "[1, 2]"),
        feature(
            f'{{"type": "Polygon", "coordinates": {SQUARE}}}',
            '{"code": null, "name": {"a": 1}, "parent_code": 1e309, "level": "\\u0000"}',
        ),
        feature(
            f'{{"type": "Polygon", "coordinates": {SQUARE}}}', '{"code": "' + "9" * 5000 + '"}'
        ),
    ),
    "junk.gpkg": b"SQLite format 3\x00" + b"\x00" * 200,
    "junk.zip": b"PK\x03\x04junk",
    "escape.zip": zipped({"../../escape.shp": b"junk", "a.dbf": b"junk"}),
    "junk-shapefile.zip": zipped({"a.shp": b"junk", "a.shx": b"junk", "a.dbf": b"junk"}),
    "not-utf8.csv": b"\xff\xfe\x00c\x00o\x00d\x00e\n\xff",
    "header-only.csv": b"code,name,lon,lat\n",
    "odd.csv": b'code,name,lon,lat,phone\nx\x00,"a,NaN,1e309,\n,,,,\n',
}


def odd_layer_files(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Layer files no schema can describe, of every kind the import reads."""
    if path != "/api/imports":
        return
    for kind in IMPORT_KINDS:
        for name, content in ODD_LAYERS.items():
            yield (
                f"{kind} from {name}",
                {"data": {"kind": kind}, "files": {"file": (name, content)}},
            )
    square = feature_collection(feature(f'{{"type": "Polygon", "coordinates": {SQUARE}}}'))
    for option, values in {
        "crs": ["junk", "EPSG:999999", "EPSG:4326" * 1000, "+proj=longlat +a=-1"],
        "layer": ["nope", "", "a" * 5000, "../x"],
        "columns": ["{x", "[1]", '{"code": 1}', '{"code": "nope"}', '{"": ""}', "1e309"],
        "keep_missing": ["maybe", ""],
    }.items():
        for value in values:
            data = {"kind": "grids", option: value}
            yield (
                f"grids with {option} = {value[:40]!r}",
                {"data": data, "files": {"file": ("a.geojson", square)}},
            )


def multipart_cases(method: str, url: str, schema: dict[str, Any]) -> list[Case]:
    schema = resolve(schema)
    fields = {
        name: "grids" if name == "kind" else "x"
        for name, s in schema.get("properties", {}).items()
        if name != "file" and name in schema.get("required", [])
    }

    def form(label: str, **kwargs: Any) -> Case:
        return Case(f"multipart: {label}", method, url, kwargs=kwargs)

    upload = ("grids.geojson", GEOJSON, "application/geo+json") if "kind" in fields else PHOTO
    return [
        form("as documented", data=fields, files={"file": upload}),
        form("without the file", data=fields),
        form("without anything", files={"zzz": ("a.txt", b"a")}),
        form("the file as a text field", data=fields | {"file": "abc"}),
        form("an empty file", data=fields, files={"file": ("a.jpg", b"", "image/jpeg")}),
        form("junk", data=fields, files={"file": ("a.jpg", b"\x00junk" * 100, "image/jpeg")}),
        form(
            "an odd file name",
            data=fields,
            files={"file": ("../../x\x00.jpg", b"\xff\xd8\xff", "image/jpeg")},
        ),
        form("a JSON body", json={"file": "abc"}),
        form(
            "no boundary",
            content=b"--x\r\n\r\n",
            headers={"content-type": "multipart/form-data"},
        ),
        form(
            "a body cut short",
            content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nab',
            headers={"content-type": "multipart/form-data; boundary=b"},
        ),
    ]


def cases_for(method: str, path: str, s: Sweep) -> list[Case]:
    op = SCHEMA["paths"][path][method.lower()]
    params = op.get("parameters", [])
    path_params = [p["name"] for p in params if p["in"] == "path"]

    def url(**odd: str) -> str:
        return path.format_map({n: odd.get(n, s.known.get(n, "1")) for n in path_params})

    good = url()
    required = [
        (p["name"], s.query.get(p["name"], "x"))
        for p in params
        if p["in"] == "query" and p.get("required")
    ]
    cases = [] if "requestBody" in op else [Case("as documented", method, good, required)]
    for name in path_params:
        cases += [
            Case(f"path {name} = {v[:40]!r}", method, url(**{name: v}), required) for v in ODD_PATH
        ]
    for p in params:
        if p["in"] != "query":
            continue
        name = p["name"]
        others = [(k, v) for k, v in required if k != name]
        types = kinds(p.get("schema", {}))
        odd = list(ODD_TEXT)
        if types & {"integer", "number"}:
            odd += ODD_NUMBER
        if "boolean" in types:
            odd += ODD_BOOLEAN
        cases += [
            Case(f"query {name} = {v[:40]!r}", method, good, [*others, (name, v)]) for v in odd
        ]
        value = s.query.get(name, "1")
        cases.append(
            Case(f"query {name} repeated", method, good, [*others, (name, value), (name, value)])
        )
        cases.append(Case(f"query {name} not UTF-8", method, f"{good}?{name}=%FF", others))
        if p.get("required"):
            cases.append(Case(f"without query {name}", method, good, others))
    cases.append(Case("an unknown query parameter", method, good, [*required, ("zzz", "1")]))
    for content_type, content in op.get("requestBody", {}).get("content", {}).items():
        if content_type == "application/json":
            spot = (s.query["lon"], s.query["lat"])
            cases += json_cases(method, good, content["schema"], spot)
            cases += [
                Case(f"body: {label}", method, good, kwargs={"content": encode(value)})
                for label, value in free_form_bodies(path, spot)
            ]
        elif content_type == "multipart/form-data":
            cases += multipart_cases(method, good, content["schema"])
            cases += [
                Case(f"multipart: {label}", method, good, kwargs=kwargs)
                for label, kwargs in odd_layer_files(path)
            ]
    return cases


def problem(path: str, r: Any) -> str | None:
    """What is wrong with an answer, if anything."""
    if r.status_code >= 500:
        return "a server error"
    if r.status_code < 400:
        return None
    if path.startswith("/open311/") and r.headers.get("content-type", "").startswith(
        ("text/xml", "application/xml")
    ):
        return open311_xml_problem(r)
    try:
        body = r.json()
    except ValueError:
        return "a 4xx that is not JSON"
    if path.startswith("/open311/") and isinstance(body, list):
        # The GeoReport v2 standard's error shape, which Open311 clients parse. Answers made
        # before a route is found (the NUL guard, a path no route matches) are the app's.
        if not (
            len(body) == 1 and body[0].get("code") == r.status_code and body[0].get("description")
        ):
            return "a 4xx not in Open311's shape"
        return None
    if not isinstance(body, dict) or not body.get("code") or not body.get("reason"):
        return "a 4xx without code and reason"
    if body.get("status") != r.status_code:
        return "a 4xx whose status field differs"
    return None


def open311_xml_problem(r: Any) -> str | None:
    """GeoReport v2's error shape in XML (its default format, which XML clients ask for):
    ``<errors><error><code>404</code><description>…</description></error></errors>``."""
    try:
        root = ElementTree.fromstring(r.content)
    except ElementTree.ParseError:
        return "a 4xx that is neither JSON nor XML"
    errors = root.findall("error")
    if root.tag != "errors" or len(errors) != 1:
        return "an XML 4xx not in Open311's shape"
    if errors[0].findtext("code") != str(r.status_code) or not errors[0].findtext("description"):
        return "an XML 4xx whose code or description is wrong"
    return None


async def row_counts(sweep: Sweep) -> dict[str, int]:
    """The rows of every table, read through the test's own engine: the app's PostgreSQL pool
    lives on the client's event loop."""
    use_engine(sweep.engine)
    try:
        return (await TABLES[0].raw(COUNT_ROWS))[0]
    finally:
        use_engine(sweep.client.app.state.engine)


async def send(sweep: Sweep, case: Case, headers: dict[str, str]) -> list[Any]:
    """The answers to ``case``: a 429, then the answer once the rate limits are forgotten.

    The limits of the public routes would otherwise answer most of their cases with a 429.
    """
    kwargs = case.kwargs | {"headers": headers | case.kwargs.get("headers", {})}
    r = await sweep.client.request(case.method, case.url, params=case.params, **kwargs)
    if r.status_code != 429:
        return [r]
    await sweep.client.app.state.limiter.reset()
    return [r, await sweep.client.request(case.method, case.url, params=case.params, **kwargs)]


# GDAL warns about the junk layer files it is fed, as it should.
@pytest.mark.filterwarnings("ignore:GPKG:RuntimeWarning", "ignore:Non closed ring:RuntimeWarning")
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_odd_input_never_breaks_a_route(sweep, method, path):
    cases = cases_for(method, path, sweep)
    documented = next(case for case in cases if case.label.endswith("as documented"))
    roles = ["city_admin"]
    if (await send(sweep, documented, sweep.sessions["city_admin"]))[-1].status_code == 403:
        # Work the admin may not do (posting positions, asking for volunteers) is swept as the
        # first role that may, so that the cases reach the route's own checks.
        for role in DOERS:
            if (await send(sweep, documented, sweep.sessions[role]))[-1].status_code != 403:
                roles.append(role)
                break
    if (method, path) in RESIDENT_SAMPLE:
        roles.append("resident")
    failures = []
    for role in roles:
        headers = sweep.sessions[role]
        for case in cases:
            watched = method != "GET" and any(w in case.label for w in DEEP_VALUES)
            before = await row_counts(sweep) if watched else None
            try:
                answers = await send(sweep, case, headers)
            except Exception as exc:  # one escaping the app is a finding too
                failures.append(f"{role}: {case.label}: raised {exc!r}"[:300])
                continue
            failures += [
                f"{role}: {case.label}: {what}: {r.status_code} {r.text[:200]!r}"
                for r in answers
                if (what := problem(path, r))
            ]
            if before is not None and answers[-1].status_code >= 400:
                after = await row_counts(sweep)
                changed = {t: after[t] - n for t, n in before.items() if after[t] != n}
                if changed:
                    failures.append(f"{role}: {case.label}: refused but wrote rows {changed}")
    assert not failures, f"{method} {path}:\n" + "\n".join(failures)
