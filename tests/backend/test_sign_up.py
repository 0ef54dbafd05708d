"""Residents sign up by themselves with a code sent by SMS (the console sender, whose messages
the tests read from the data folder), reset a forgotten password the same way, and claim the
requests they reported before without an account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases.tables import Case
from backend.demo import DEMO_PASSWORD
from backend.people.tables import Person
from backend.sms.tables import SmsCode
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.backend.case_steps import demo_spot, report_body, sign_in
from tests.backend.sms_steps import ask_code, bearer, console_messages, sign_up

PHONE = "19912340001"
COMMUNITY = DEMO_GRID_CODE[:12]


@pytest.fixture
async def api(scratch_database) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def on_app(api: AsyncTestClient, work: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run ``work`` on the app's own event loop, where its database pool lives."""
    return await anyio.to_thread.run_sync(api.blocking_portal.call, work, *args)


async def test_a_resident_signs_up_with_the_sms_code_then_signs_in(api):
    answer = await sign_up(api, PHONE, home_community=COMMUNITY)
    assert answer["token_type"] == "bearer"
    me = await api.get("/api/me", headers=bearer(answer["token"]))
    assert me.status_code == 200
    person = me.json()
    assert (person["phone"], person["role"], person["name"]) == (PHONE, "resident", "王小红")
    assert (person["area"]["code"], person["area"]["level"]) == (COMMUNITY, "community")

    signed = await api.post(
        "/api/auth/sign-in", json={"phone": PHONE, "password": "my-own-password"}
    )
    assert signed.status_code == 200 and signed.json()["person"]["id"] == person["id"]

    # The phone is taken now: no second account, not even a code for one.
    r = await api.post("/api/auth/sms-code", json={"phone": PHONE, "purpose": "sign_up"})
    assert (r.status_code, r.json()["code"]) == (409, "phone_taken")
    demo = "13900000009"
    r = await api.post("/api/auth/sms-code", json={"phone": demo, "purpose": "sign_up"})
    assert (r.status_code, r.json()["code"]) == (409, "phone_taken")

    async def stored() -> tuple[list[dict], int]:
        people = await Person.select(Person.password_hash).where(Person.phone == PHONE)
        return people, await SmsCode.count()

    people, codes = await on_app(api, stored)
    assert people[0]["password_hash"].startswith("$argon2id$") and codes == 0  # code spent


async def test_a_code_is_spent_once_and_its_hash_alone_is_stored(api):
    code = await ask_code(api, PHONE)

    async def stored() -> list[dict]:
        return await SmsCode.select(SmsCode.code_hash, SmsCode.tries).where(SmsCode.phone == PHONE)

    [row] = await on_app(api, stored)
    assert code not in row["code_hash"] and len(row["code_hash"]) == 64
    body = {"phone": PHONE, "code": code, "password": "my-own-password", "name": "王"}
    assert (await api.post("/api/auth/sign-up", json=body)).status_code == 201
    again = await api.post("/api/auth/sign-up", json=body | {"phone": "19912340002"})
    assert (again.status_code, again.json()["code"]) == (403, "code_expired")


async def test_bad_input_is_refused_before_the_code_is_spent(api):
    code = await ask_code(api, PHONE)
    base = {"phone": PHONE, "code": code, "password": "my-own-password", "name": "王"}
    r = await api.post("/api/auth/sign-up", json=base | {"home_community": "150302999999"})
    assert (r.status_code, r.json()["code"]) == (422, "unknown_community")
    r = await api.post("/api/auth/sign-up", json=base | {"home_community": DEMO_GRID_CODE[:9]})
    assert r.status_code == 422  # a street is not a community
    r = await api.post("/api/auth/sign-up", json=base | {"password": "short"})
    assert r.status_code == 422  # the policy of POST /api/auth/password: 8 characters or more
    for phone in ("1381234567", "+8613812345678", "23812345678"):
        r = await api.post("/api/auth/sms-code", json={"phone": phone, "purpose": "sign_up"})
        assert r.status_code == 422, phone
    r = await api.post("/api/auth/sms-code", json={"phone": PHONE, "purpose": "admin"})
    assert r.status_code == 422
    assert (await api.post("/api/auth/sign-up", json=base)).status_code == 201


async def test_a_code_expires_after_five_minutes(api):
    code = await ask_code(api, PHONE)

    async def age() -> None:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await SmsCode.update({SmsCode.expires_at: past}).where(SmsCode.phone == PHONE)

    async def expiry() -> datetime:
        return (await SmsCode.select(SmsCode.expires_at).first())["expires_at"]

    left = (await on_app(api, expiry) - datetime.now(UTC)).total_seconds()
    assert 290 < left <= 300
    await on_app(api, age)
    body = {"phone": PHONE, "code": code, "password": "my-own-password", "name": "王"}
    r = await api.post("/api/auth/sign-up", json=body)
    assert (r.status_code, r.json()["code"]) == (403, "code_expired")
    assert (
        await api.post("/api/auth/sign-in", json={"phone": PHONE, "password": "x"})
    ).status_code == 401


async def test_five_wrong_codes_use_the_code_up(api):
    code = await ask_code(api, PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    body = {"phone": PHONE, "code": wrong, "password": "my-own-password", "name": "王"}
    for left in (4, 3, 2, 1, 0):
        r = await api.post("/api/auth/sign-up", json=body)
        assert (r.status_code, r.json()["code"]) == (403, "wrong_code"), r.text
        assert r.json()["details"]["tries_left"] == left
    r = await api.post("/api/auth/sign-up", json=body | {"code": code})
    assert (r.status_code, r.json()["code"]) == (403, "code_exhausted")

    async def people() -> int:
        return await Person.count().where(Person.phone == PHONE)

    assert await on_app(api, people) == 0


async def test_a_password_reset_voids_every_old_token(api):
    resident = DEMO_ACCOUNTS["resident"]
    sessions = [await sign_in(api, "resident"), await sign_in(api, "resident")]
    old = [s.headers for s in sessions]
    assert [(await api.get("/api/me", headers=h)).status_code for h in old] == [200, 200]

    code = await ask_code(api, resident, "reset")
    body = {"phone": resident, "code": code, "new_password": "a-new-password"}
    r = await api.post("/api/auth/password-reset", json=body | {"new_password": "short"})
    assert r.status_code == 422
    r = await api.post("/api/auth/password-reset", json=body)
    assert r.status_code == 200, r.text
    assert [(await api.get("/api/me", headers=h)).status_code for h in old] == [401, 401]
    assert (await api.get("/api/me", headers=bearer(r.json()["token"]))).status_code == 200
    sign = "/api/auth/sign-in"
    old_password = {"phone": resident, "password": DEMO_PASSWORD}
    assert (await api.post(sign, json=old_password)).status_code == 401
    new_password = {"phone": resident, "password": "a-new-password"}
    assert (await api.post(sign, json=new_password)).status_code == 200
    again = await api.post("/api/auth/password-reset", json=body)
    assert (again.status_code, again.json()["code"]) == (403, "code_expired")


async def test_a_reset_code_for_a_phone_without_an_account_answers_alike_and_sends_nothing(api):
    before = len(console_messages(api))
    r = await api.post("/api/auth/sms-code", json={"phone": "19912349999", "purpose": "reset"})
    assert (r.status_code, r.json()) == (202, {"expires_in": 300, "resend_after": 60})
    assert len(console_messages(api)) == before
    body = {"phone": "19912349999", "code": "000000", "new_password": "a-new-password"}
    r = await api.post("/api/auth/password-reset", json=body)
    assert (r.status_code, r.json()["code"]) == (403, "code_expired")
    # A staff member forgets too: the reset is for every account, the code goes to theirs.
    code = await ask_code(api, "13900000007", "reset")
    body = {"phone": "13900000007", "code": code, "new_password": "a-new-password"}
    r = await api.post("/api/auth/password-reset", json=body)
    assert r.status_code == 200 and r.json()["person"]["role"] == "grid_worker"


async def anonymous_report(
    api: AsyncTestClient, spot: tuple[float, float], phone: str
) -> tuple[int, str]:
    body = report_body(spot, contact_phone=phone)
    del body["kind"]
    r = await api.post("/api/anonymous/cases", json=body)
    assert r.status_code == 201, r.text
    return r.json()["case"]["id"], r.json()["tracking_code"]


async def test_anonymous_requests_are_claimed_into_my_requests_with_their_codes(api, demo_city):
    spot = demo_spot(demo_city)
    mine, my_code = await anonymous_report(api, spot, "+86-" + PHONE)
    _, their_code = await anonymous_report(api, spot, "13812345678")
    resident = bearer((await sign_up(api, PHONE))["token"])

    async def reporters() -> list[Any]:
        rows = await Case.select(Case.reporter).where(Case.tracking_key.is_not_null())
        return sorted(r["reporter"] or 0 for r in rows)

    async def my_requests() -> list[int]:
        r = await api.get("/api/case-list/?mine=true", headers=resident)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["items"]]

    assert await my_requests() == []
    claim = "/api/cases/claim"
    r = await api.post(claim, json={"codes": ["ABCDE-FGHJK"]}, headers=resident)
    assert r.status_code == 404
    r = await api.post(claim, json={"codes": [my_code, "ABCDE-FGHJK"]}, headers=resident)
    assert r.status_code == 404
    r = await api.post(claim, json={"codes": [my_code, their_code]}, headers=resident)
    assert (r.status_code, r.json()["code"]) == (403, "not_your_case")
    assert r.json()["details"]["index"] == 1
    assert await on_app(api, reporters) == [0, 0]  # nothing written
    assert await my_requests() == []
    assert (await api.post(claim, json={"codes": [my_code]})).status_code == 401
    leader = await sign_in(api, "grid_leader")
    r = await api.post(claim, json={"codes": [my_code]}, headers=leader.headers)
    assert r.status_code == 403

    r = await api.post(claim, json={"codes": [my_code.lower()]}, headers=resident)
    assert (r.status_code, r.json()) == (200, {"cases": [mine]})
    assert await my_requests() == [mine]
    case = await api.get(f"/api/cases/{mine}", headers=resident)
    assert case.status_code == 200
    # Claimed twice is the same claim.
    r = await api.post(claim, json={"codes": [my_code]}, headers=resident)
    assert (r.status_code, r.json()) == (200, {"cases": [mine]})
    me = (await api.get("/api/me", headers=resident)).json()["id"]
    assert await on_app(api, reporters) == [0, me]


async def test_the_openapi_document_lists_the_refusals(api):
    doc = (await api.get("/schema/openapi.json")).json()

    def answers(path: str) -> set[str]:
        return set(doc["paths"][path]["post"]["responses"])

    assert {"409", "422", "429", "503"} <= answers("/api/auth/sms-code")
    assert {"403", "409", "422", "429"} <= answers("/api/auth/sign-up")
    assert {"403", "422", "429"} <= answers("/api/auth/password-reset")
    assert {"401", "403", "404", "422", "429"} <= answers("/api/cases/claim")
