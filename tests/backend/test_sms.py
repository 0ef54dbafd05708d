"""Text messages: the console sender (the log, masked, and the data folder's file, whole), the
limits on codes, the daily cap per phone, and the Aliyun and Tencent adapters against local
fakes of their APIs that check each request's signature."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.settings import Settings
from backend.sms.service import send_sms
from backend.sms.tables import SmsMessage
from tests.backend.sms_fakes import Fake, FakeAliyun, FakeTencent, serving
from tests.backend.sms_steps import ask_code, console_messages
from tests.live.conftest import free_port

PHONE = "19912340001"
TEMPLATES = {"SMS_4711": ("code",), "SMS_4712": ("code",)}
CONFIGURED = (("verification_code", "SMS_4711"), ("tracking_code", "SMS_4712"))


@pytest.fixture
async def api(scratch_database) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def on_app(api: AsyncTestClient, work: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    return await anyio.to_thread.run_sync(api.blocking_portal.call, work, *args)


def code_request(phone: str = PHONE, purpose: str = "sign_up") -> dict[str, str]:
    return {"phone": phone, "purpose": purpose}


async def test_the_console_logs_a_masked_phone_and_files_the_whole_message(api, caplog):
    with caplog.at_level(logging.INFO, logger="wangge.sms"):
        code = await ask_code(api, PHONE)
    [record] = [r for r in caplog.records if r.name == "wangge.sms"]
    logged = record.getMessage()
    assert "199****0001" in logged and PHONE not in logged and code in logged
    [message] = console_messages(api)
    assert message["phone"] == PHONE and message["text"].startswith(f"您的验证码是{code}")
    path = api.app.state.settings.data_dir / "sms.log"
    assert path.stat().st_mode & 0o077 == 0  # whole phones and codes: the owner's only


async def test_codes_are_limited_per_phone_and_per_address(api):
    assert (await api.post("/api/auth/sms-code", json=code_request())).status_code == 202
    r = await api.post("/api/auth/sms-code", json=code_request())
    assert (r.status_code, r.json()["code"]) == (429, "too_many_requests")
    assert 50 <= int(r.headers["Retry-After"]) <= 60
    # The same for a reset of a phone without an account: the limits do not tell them apart.
    stranger = code_request("19912349999", "reset")
    assert (await api.post("/api/auth/sms-code", json=stranger)).status_code == 202
    assert (await api.post("/api/auth/sms-code", json=stranger)).status_code == 429
    # 20 an hour from one address, whatever the phones and answers (four asked above).
    for n in range(16):
        r = await api.post("/api/auth/sms-code", json=code_request(f"1995555{n:04d}"))
        assert r.status_code == 202, r.text
    r = await api.post("/api/auth/sms-code", json=code_request("19966660000"))
    assert (r.status_code, r.json()["code"]) == (429, "too_many_requests")
    assert "this address" in r.json()["reason"] and int(r.headers["Retry-After"]) > 60
    sent = [m["phone"] for m in console_messages(api)]
    assert sent == [PHONE] + [f"1995555{n:04d}" for n in range(16)]  # the stranger's: none


async def test_a_phone_gets_at_most_the_daily_cap_whoever_sends(scratch_database):
    settings = replace(scratch_database.settings, sms_daily_cap=2)
    async with AsyncTestClient(app=create_app(settings)) as api:

        async def hotline_sends() -> None:  # another feature's messages count as well
            for code in ("ABCDE-FGHJK", "BCDEF-GHJKM"):
                await send_sms(PHONE, "tracking_code", {"code": code}, settings=settings)

        await on_app(api, hotline_sends)
        r = await api.post("/api/auth/sms-code", json=code_request())
        assert (r.status_code, r.json()["code"]) == (429, "sms_daily_cap")
        assert 86_000 < int(r.headers["Retry-After"]) <= 86_400
        other = await api.post("/api/auth/sms-code", json=code_request("19912340002"))
        assert other.status_code == 202
        texts = [m["text"] for m in console_messages(api)]
        assert len(texts) == 3 and "ABCDE-FGHJK" in texts[0]


def provider_settings(base: Settings, provider: str, url: str, secret: str) -> Settings:
    return replace(
        base,
        sms=provider,
        sms_endpoint=url,
        sms_key_id="key-id-of-the-city",
        sms_key_secret=secret,
        sms_sign_name="乌海网格",
        sms_app_id="1400000001",
        sms_templates=CONFIGURED,
    )


def fake_of(provider: str) -> Fake:
    if provider == "aliyun":
        return FakeAliyun("key-id-of-the-city", "the-right-secret", TEMPLATES)
    return FakeTencent("key-id-of-the-city", "the-right-secret", TEMPLATES, app_id="1400000001")


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request) -> Iterator[tuple[str, Fake, str]]:
    fake = fake_of(request.param)
    with serving(fake) as url:
        yield request.param, fake, url


async def test_a_provider_sends_the_code_signed_and_the_resident_signs_up(
    provider, scratch_database
):
    name, fake, url = provider
    settings = provider_settings(scratch_database.settings, name, url, "the-right-secret")
    async with AsyncTestClient(app=create_app(settings)) as api:
        r = await api.post("/api/auth/sms-code", json=code_request())
        assert r.status_code == 202, r.text
        [sent] = fake.sent
        wanted = "+86" + PHONE if name == "tencent" else PHONE
        assert (sent["phone"], sent["sign"], sent["template"]) == (wanted, "乌海网格", "SMS_4711")
        body = {
            "phone": PHONE,
            "code": sent["params"]["code"],
            "password": "pw-of-mine",
            "name": "王",
        }
        r = await api.post("/api/auth/sign-up", json=body)
        assert r.status_code == 201, r.text

        async def trail() -> list[dict]:
            return await SmsMessage.select(
                SmsMessage.phone, SmsMessage.provider, SmsMessage.status, SmsMessage.provider_id
            )

        [row] = await on_app(api, trail)
        assert (row["phone"], row["provider"], row["status"]) == (PHONE, name, "sent")
        assert row["provider_id"]
        assert fake.refused == [] and console_messages(api) == []


async def test_a_wrong_secret_is_refused_by_the_provider_and_answered_503(
    provider, scratch_database
):
    name, fake, url = provider
    settings = provider_settings(scratch_database.settings, name, url, "a-wrong-secret")
    async with AsyncTestClient(app=create_app(settings)) as api:
        r = await api.post("/api/auth/sms-code", json=code_request())
        assert (r.status_code, r.json()["code"]) == (503, "sms_unavailable"), r.text
        assert r.headers["Retry-After"] == "60"
        expected = {"aliyun": "SignatureDoesNotMatch", "tencent": "AuthFailure.SignatureFailure"}
        assert fake.refused == [expected[name]] and fake.sent == []
        assert expected[name] in r.json()["reason"]

        async def trail() -> list[dict]:
            return await SmsMessage.select(SmsMessage.status, SmsMessage.error)

        [row] = await on_app(api, trail)
        assert row["status"] == "failed" and row["error"].startswith(expected[name])


async def test_a_number_the_provider_refuses_and_a_provider_down_are_503(
    provider, scratch_database
):
    name, fake, url = provider
    fake.limited = {PHONE, "+86" + PHONE}
    settings = provider_settings(scratch_database.settings, name, url, "the-right-secret")
    async with AsyncTestClient(app=create_app(settings)) as api:
        r = await api.post("/api/auth/sms-code", json=code_request())
        assert (r.status_code, r.json()["code"]) == (503, "sms_unavailable"), r.text
        assert fake.sent == [] and len(fake.refused) == 1
    down = replace(settings, sms_endpoint=f"http://127.0.0.1:{free_port()}/")
    async with AsyncTestClient(app=create_app(down)) as api:
        r = await api.post("/api/auth/sms-code", json=code_request("19912340002"))
        assert (r.status_code, r.json()["code"]) == (503, "sms_unavailable"), r.text
    unconfigured = replace(settings, sms_templates=())
    async with AsyncTestClient(app=create_app(unconfigured)) as api:
        r = await api.post("/api/auth/sms-code", json=code_request("19912340003"))
        assert (r.status_code, r.json()["code"]) == (503, "sms_unavailable"), r.text


def test_the_provider_is_read_from_the_environment():
    env = {
        "WANGGE_SMS": "Tencent",
        "WANGGE_SMS_TEMPLATES": "verification_code=1234567, tracking_code=7654321",
        "WANGGE_SMS_DAILY_CAP": "3",
    }
    settings = Settings.from_env(env)
    assert (settings.sms, settings.sms_daily_cap) == ("tencent", 3)
    assert dict(settings.sms_templates) == {
        "verification_code": "1234567",
        "tracking_code": "7654321",
    }
    assert Settings.from_env({}).sms == "console"
    with pytest.raises(ValueError, match="WANGGE_SMS"):
        Settings.from_env({"WANGGE_SMS": "carrier-pigeon"})
