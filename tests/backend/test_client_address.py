"""Rate limits against a server started as the README starts it (``wangge serve``): forged
forwarding headers change nothing unless they come from a trusted proxy, and a phone's wrong
passwords are counted whatever address they come from."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio

from backend.core.client import client_host, parse_networks
from backend.core.ratelimit import Limiter, Rule, TooManyRequests
from backend.core.settings import Settings
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS
from tests.conftest import _database_copy
from tests.live.conftest import REDIS_URL
from tests.served import serve, stop, wait_up


@dataclass
class Servers:
    plain: str  # trusts nobody's forwarding headers (the default)
    proxied: str  # behind a proxy on 127.0.0.1 (WANGGE_TRUSTED_PROXIES)


@pytest_asyncio.fixture(scope="module")
async def servers(
    city_template: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Servers]:
    kind, template = city_template
    data_dir = tmp_path_factory.mktemp(f"addr-{kind}")
    async with _database_copy(kind, template, data_dir) as db:
        plain = serve(db.settings, data_dir)
        proxied = serve(db.settings, data_dir, WANGGE_TRUSTED_PROXIES="127.0.0.1, ::1")
        try:
            await asyncio.gather(wait_up(plain), wait_up(proxied))
            yield Servers(plain.base, proxied.base)
        finally:
            stop(plain, proxied)


def _forged(i: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"203.0.113.{i % 250}", "Forwarded": f"for=198.51.100.{i % 250}"}


BAD_SIGN_IN = {"phone": "1", "password": "x"}


@pytest.mark.parametrize(
    ("method", "path", "body", "budget"),
    [
        ("POST", "/api/auth/sign-in", BAD_SIGN_IN, 30),
        ("POST", "/api/anonymous/cases/", {"category": "9999"}, 20),
        ("GET", "/api/anonymous/cases/ABCDE-FGHJK", None, 60),
        ("GET", "/open311/v2/services.json", None, 120),
    ],
)
async def test_forged_forwarding_headers_change_nothing(servers, method, path, body, budget):
    async with httpx.AsyncClient(base_url=servers.plain, timeout=30) as client:
        codes = [
            (await client.request(method, path, json=body, headers=_forged(i))).status_code
            for i in range(budget + 1)
        ]
        assert 429 not in codes[:budget]
        assert codes[budget] == 429
        last = await client.request(method, path, json=body, headers=_forged(7))
    assert last.status_code == 429
    assert int(last.headers["retry-after"]) >= 1
    if path.startswith("/open311/"):
        assert last.json()[0]["code"] == 429  # the standard's error shape
    else:
        assert last.json()["code"] == "too_many_requests"


async def test_a_trusted_proxy_names_the_client(servers):
    async with httpx.AsyncClient(base_url=servers.proxied, timeout=30) as client:
        spread = [
            (await client.post("/api/auth/sign-in", json=BAD_SIGN_IN, headers=_forged(i)))
            for i in range(40)
        ]
        assert {r.status_code for r in spread} != {429}
        assert all(r.status_code != 429 for r in spread)
        one = {"X-Forwarded-For": "192.0.2.77"}
        codes = [
            (await client.post("/api/auth/sign-in", json=BAD_SIGN_IN, headers=one)).status_code
            for _ in range(31)
        ]
    assert 429 not in codes[:30] and codes[30] == 429


async def test_wrong_passwords_are_counted_per_phone_across_addresses(servers):
    phone = DEMO_ACCOUNTS["grid_police"]
    async with httpx.AsyncClient(base_url=servers.proxied, timeout=30) as client:
        for i in range(10):
            r = await client.post(
                "/api/auth/sign-in",
                json={"phone": phone, "password": f"guess-{i}"},
                headers={"X-Forwarded-For": f"192.0.2.{100 + i}"},
            )
            assert r.status_code == 401
        # The eleventh try is refused before the password is looked at, right one or not.
        locked = await client.post(
            "/api/auth/sign-in",
            json={"phone": phone, "password": DEMO_PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.200"},
        )
        assert locked.status_code == 429
        assert locked.json()["code"] == "too_many_requests"
        assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60
        other = await client.post(
            "/api/auth/sign-in",
            json={"phone": DEMO_ACCOUNTS["grid_worker"], "password": DEMO_PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.200"},
        )
    assert other.status_code == 200


def test_the_client_is_the_nearest_untrusted_hop():
    proxies = parse_networks("10.0.0.0/8, ::1")
    headers = [(b"x-forwarded-for", b"6.6.6.6, 1.2.3.4, 10.1.1.1")]
    # The client may prepend anything; the proxies' own entries are at the end.
    assert client_host({"client": ("10.0.0.2", 1), "headers": headers}, proxies) == "1.2.3.4"
    assert client_host({"client": ("1.1.1.1", 1), "headers": headers}, proxies) == "1.1.1.1"
    rfc = [(b"forwarded", b'for="[2001:db8::1]:4711";proto=https, for=10.9.9.9')]
    assert client_host({"client": ("::1", 1), "headers": rfc}, proxies) == "2001:db8::1"
    junk = [(b"x-forwarded-for", b"not-an-address")]
    assert client_host({"client": ("10.0.0.2", 1), "headers": junk}, proxies) == "10.0.0.2"
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/33")


async def test_processes_on_redis_spend_one_budget():
    settings = Settings(redis_url=REDIS_URL, redis_prefix=f"wangge-test-{uuid.uuid4().hex}:")
    first, second = Limiter(settings), Limiter(settings)
    rule = Rule("test", "3/minute", "tries")
    try:
        for limiter in (first, second, first):
            await limiter.hit(rule, "198.51.100.1")
        with pytest.raises(TooManyRequests) as refused:
            await second.hit(rule, "198.51.100.1")
        assert refused.value.headers["Retry-After"]
        await second.hit(rule, "198.51.100.2")  # another key, its own budget
    finally:
        await first.reset()
