"""``GET /metrics`` and JSON logs, from ``wangge serve`` processes.

One process with ``WANGGE_LOG_FORMAT=json``: requests are timed by route template (never by the
raw path), a live socket and the event log's head show, /metrics is 404 to a client outside
``WANGGE_METRICS_ALLOW`` (also one a trusted proxy names); every log line is JSON, access lines
carry their duration, and a sign-in and a case with a phone leave no token and no phone.
Two workers (PostgreSQL): a scrape answers for both processes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from backend.core.db import close_pool, use_engine
from backend.demo import DEMO_PASSWORD
from backend.notify.tables import NotifyCursor, Outbox
from geo.demo import DEMO_ACCOUNTS
from tests.backend.case_steps import demo_spot, report_body
from tests.conftest import _database_copy
from tests.served import served

PHONE = "13812345678"


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(text: str, name: str, **labels: str) -> float:
    found = [v for n, ls, v in samples(text) if n == name and labels.items() <= ls.items()]
    assert found, f"no {name} {labels} in:\n{text[:3000]}"
    return sum(found)


async def test_metrics_and_json_logs_of_a_served_process(city_template, demo_city, tmp_path):
    kind, template = city_template
    async with (
        _database_copy(kind, template, tmp_path / "data") as db,
        served(
            db.settings,
            tmp_path / "data",
            WANGGE_LOG_FORMAT="json",
            WANGGE_TRUSTED_PROXIES="127.0.0.1",
            WANGGE_NOTIFY_INTERVAL_S="0",  # the sender off: its backlog stays as made below
        ) as server,
        httpx.AsyncClient(base_url=server.base, timeout=30) as http,
    ):
        r = await http.post(
            "/api/auth/sign-in",
            json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
        )
        token = r.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        r = await http.post(
            "/api/cases", json=report_body(demo_spot(demo_city), contact_phone=PHONE), headers=auth
        )
        assert r.status_code == 201, r.text
        case = r.json()["id"]
        for _ in range(2):
            assert (await http.get(f"/api/cases/{case}", headers=auth)).status_code == 200
        # A phone and a token in a query string, as a search or an old live client sends them.
        await http.get("/api/case-list", params={"q": PHONE}, headers=auth)
        await http.get("/api/health", params={"token": token})

        # A sender stuck at the start of the log, with a message it never sent.
        use_engine(db.engine)
        await NotifyCursor.insert(NotifyCursor(id=1, last=0))
        await Outbox.insert(Outbox(key="stuck", channel="sms", next_at=datetime.now(UTC)))
        await close_pool(db.engine)

        ws_url = server.base.replace("http", "ws") + f"/api/live?token={token}"
        async with connect(ws_url) as ws:
            await ws.send(json.dumps({"type": "subscribe", "scopes": []}))
            await ws.recv()
            r = await http.get("/metrics")
            assert r.status_code == 200, r.text
            assert r.headers["content-type"].startswith("text/plain")
            text = r.text
            assert value(text, "wangge_live_sockets") == 1

        routes = {ls["route"] for n, ls, _ in samples(text) if "route" in ls}
        assert not any(str(case) in route for route in routes), routes
        case_route = next(r for r in routes if r.startswith("/api/cases/{"))
        name = "wangge_http_request_duration_seconds_count"
        assert value(text, name, route=case_route, method="GET", status="2xx") == 2
        assert value(text, name, route="/api/cases", method="POST", status="2xx") == 1
        assert value(text, "wangge_http_requests_in_flight") == 1  # the scrape itself
        assert value(text, "wangge_http_requests_shed_total") == 0
        head = value(text, "wangge_event_log_head")
        assert head > 0
        assert value(text, "wangge_notify_events_behind") == head
        assert value(text, "wangge_notify_outbox_pending") == 1
        if kind == "postgres":
            assert value(text, "wangge_db_pool_connections", state="open") >= 1
            assert value(text, "wangge_db_pool_connections", state="max") == 20

        # The proxy is trusted: the client it names is outside WANGGE_METRICS_ALLOW.
        proxied = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 404
        assert (await http.get("/no-such-path")).json() == proxied.json()

    log = server.log.read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= lines[0].keys()
    posts = [x for x in lines if x.get("path") == "/api/cases" and x.get("method") == "POST"]
    assert posts and posts[0]["status"] == 201 and posts[0]["duration_ms"] > 0
    assert token not in log and token.split(".")[-1] not in log
    assert PHONE not in log and DEMO_ACCOUNTS["resident"] not in log
    assert any("/api/health?token=[redacted]" in x.get("path", "") for x in lines)


@pytest.mark.parametrize("city_template", ["postgres"], indirect=True)
async def test_a_scrape_answers_for_every_worker(city_template, tmp_path):
    kind, template = city_template
    requests = 40
    async with (
        _database_copy(kind, template, tmp_path / "data") as db,
        served(db.settings, tmp_path / "data", "--workers", "2") as server,
        # A connection per request: the two workers take turns accepting them.
        httpx.AsyncClient(
            base_url=server.base, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
        ) as http,
    ):
        for _ in range(requests):
            assert (await http.get("/api/config")).status_code == 200
        for _ in range(5):
            text = (await http.get("/metrics")).text
            count = value(text, "wangge_http_request_duration_seconds_count", route="/api/config")
            assert count == requests
    assert len({p.stem.rsplit("_", 1)[-1] for p in (tmp_path / "data" / "metrics").iterdir()}) == 2
