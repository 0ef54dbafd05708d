"""An unmodified Open311 client from PyPI, ``georeport`` 0.3.1, against a server started as the
README starts it (``wangge serve``), on each database: it reads the services, a service's
definition, the requests and one request, in XML and in JSON. The requests it reads were
handed in by a city system with a key the city admin made with ``wangge open311-key``.

georeport has no POST: the requests go in through httpx, as the standard's form.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from georeport import GeoReport

from tests.backend.case_steps import demo_spot
from tests.conftest import _database_copy
from tests.served import ROOT, served

CITY = "150300"  # 乌海市


def wangge(settings, *args: str) -> str:
    """``wangge ARGS`` on the test's database, as a city admin runs it; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "WANGGE_DATA_DIR": str(settings.data_dir),
            "WANGGE_SECRET_KEY": settings.secret_key,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def as_dict(element: ET.Element) -> dict[str, str | None]:
    return {child.tag: child.text for child in element}


def as_list(value) -> list:
    """xmltodict reads one repeated element as a dict, several as a list."""
    return value if isinstance(value, list) else [value]


def read_all(base: str, fmt: str, ids: list[str]) -> dict:
    """What georeport reads in ``fmt``: blocking calls, run off the event loop."""
    client = GeoReport(f"{base}/open311/v2", jurisdiction=CITY, output_format=fmt)
    return {
        "services": client.get_service_list(),
        "definition": client.get_service_definition("1501"),
        "requests": client.get_service_requests(service_request_id=",".join(ids)),
        "open": client.get_service_requests(status="open", service_code="1501,0101"),
        "one": client.get_service_request(ids[0]),
    }


@pytest.mark.parametrize("fmt", ["xml", "json"])
async def test_georeport_reads_what_a_city_system_handed_in(
    city_template, demo_city, tmp_path: Path, fmt: str
) -> None:
    kind, template = city_template
    async with (
        _database_copy(kind, template, tmp_path / "data") as db,
        served(db.settings, tmp_path / "data") as server,
    ):
        made = wangge(db.settings, "open311-key", "create", "数字城管")
        key = made.strip().splitlines()[-1]
        assert key.startswith("o311_") and "数字城管" in made
        lon, lat = demo_spot(demo_city)
        ids = []
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            for code, text in (("1501", "路灯不亮"), ("0101", "垃圾堆放")):
                r = await http.post(
                    f"/open311/v2/requests.{fmt}",
                    data={
                        "api_key": key,
                        "jurisdiction_id": CITY,
                        "service_code": code,
                        "lat": str(lat),
                        "long": str(lon),
                        "description": text,
                        "phone": "13912345678",
                    },
                )
                assert r.status_code == 201, r.text
                answer = r.json()[0] if fmt == "json" else as_dict(ET.fromstring(r.content)[0])
                ids.append(answer["service_request_id"])

        read = await asyncio.to_thread(read_all, server.base, fmt, ids)

        services = as_list(read["services"])
        lamp = next(s for s in services if s["service_code"] == "1501")
        assert (lamp["service_name"], lamp["group"]) == ("路灯不亮", "市政设施")
        assert str(lamp["metadata"]).lower() == "true"
        definition = read["definition"]
        attributes = definition["attributes"]
        attributes = as_list(attributes["attribute"]) if fmt == "xml" else attributes
        assert definition["service_code"] == "1501"
        assert [a["code"] for a in attributes] == ["priority", "time_limits"]
        values = attributes[0]["values"]
        values = as_list(values["value"]) if fmt == "xml" else values
        assert [v["key"] for v in values] == ["urgent", "high", "normal"]

        requests = as_list(read["requests"])
        assert sorted(r["service_request_id"] for r in requests) == sorted(ids)
        assert {r["service_code"] for r in requests} == {"1501", "0101"}
        assert all(r["status"] == "open" for r in requests)
        assert sorted(r["service_request_id"] for r in as_list(read["open"])) == sorted(ids)
        one = read["one"]
        assert (one["service_request_id"], one["service_code"]) == (ids[0], "1501")
        assert one["description"] == "路灯不亮" and one["requested_datetime"]
        assert float(one["lat"]) == pytest.approx(lat) and float(one["long"]) == pytest.approx(lon)
        assert "13912345678" not in str(read)

        listed = wangge(db.settings, "open311-key", "list")
        assert "数字城管" in listed and "live" in listed and "last used never" not in listed
        wangge(db.settings, "open311-key", "revoke", "数字城管")
        assert "revoked" in wangge(db.settings, "open311-key", "list")
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
            r = await http.post(
                f"/open311/v2/requests.{fmt}",
                data={"api_key": key, "service_code": "1501", "lat": str(lat), "long": str(lon)},
            )
        assert r.status_code == 403 and "Invalid api_key" in r.text
