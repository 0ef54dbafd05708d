import pytest

from backend.auth.tokens import TokenClaims, issue_token
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE


async def sign_in(client, phone, password=DEMO_PASSWORD):
    return await client.post("/api/auth/sign-in", json={"phone": phone, "password": password})


@pytest.mark.parametrize("role", sorted(DEMO_ACCOUNTS))
async def test_every_demo_account_signs_in_with_its_role(client, role):
    r = await sign_in(client, DEMO_ACCOUNTS[role])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == role
    assert me.json()["phone"] == DEMO_ACCOUNTS[role]


async def test_grid_leader_sees_their_post(client):
    token = (await sign_in(client, DEMO_ACCOUNTS["grid_leader"])).json()["token"]
    me = (await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert {"grid_code": DEMO_GRID_CODE, "post": "leader"}.items() <= me["posts"][0].items()


@pytest.mark.parametrize(
    ("phone", "password"), [("13900000001", "wrong"), ("13999999999", DEMO_PASSWORD)]
)
async def test_wrong_password_or_unknown_phone_get_the_same_401(client, phone, password):
    r = await sign_in(client, phone, password)
    assert r.status_code == 401
    assert r.json()["code"] == "bad_credentials"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "missing_field", "phone"),
        ({"phone": "13900000001"}, "missing_field", "password"),
        ({"phone": "abc", "password": "x"}, "invalid_value", "phone"),
        ({"phone": "139", "password": "x" * 200}, "invalid_value", "phone"),
        ({"phone": 13900000001, "password": "x"}, "invalid_type", "phone"),
        ({"phone": "13900000001", "password": "x", "role": "city_admin"}, "unknown_field", "role"),
    ],
)
async def test_a_sign_in_missing_or_misfilling_a_field_is_a_422_naming_it(
    client, body, code, field
):
    r = await client.post("/api/auth/sign-in", json=body)
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == (code, field)


@pytest.mark.parametrize("content", [b'{"phone": "1390', b"phone=1&password=2", b"\xff\xfe"])
async def test_a_sign_in_that_is_not_json_is_a_400(client, content):
    r = await client.post(
        "/api/auth/sign-in", content=content, headers={"Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()["code"]) == (400, "malformed_body")


async def test_me_needs_a_valid_token(client, database):
    assert (await client.get("/api/me")).json()["code"] == "unauthenticated"
    forged = issue_token(TokenClaims(sub=1, exp=2**40), "not-the-secret")
    r = await client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    expired = issue_token(TokenClaims(sub=1, exp=1), database.settings.secret_key)
    r = await client.get("/api/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert "expired" in r.json()["reason"]
