"""The city's own rate limits (WANGGE_RATE_LIMITS) replace the code's, by rule name."""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.settings import Settings
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS


def test_the_setting_is_read_by_rule_name_and_refused_when_unreadable():
    read = Settings.from_env({"WANGGE_RATE_LIMITS": " sign_in = 300/minute, password=5/hour "})
    assert read.rate_limits == (("sign_in", "300/minute"), ("password", "5/hour"))
    assert Settings.from_env({}).rate_limits == ()
    for wrong in ("sign_in", "sign_in=lots", "=3/minute"):
        with pytest.raises(ValueError, match="WANGGE_RATE_LIMITS"):
            Settings.from_env({"WANGGE_RATE_LIMITS": wrong})


async def test_a_city_limit_replaces_the_codes(scratch_database):
    settings = replace(scratch_database.settings, rate_limits=(("sign_in", "2/minute"),))
    body = {"phone": DEMO_ACCOUNTS["grid_leader"], "password": DEMO_PASSWORD}
    async with AsyncTestClient(app=create_app(settings)) as api:
        answers = [await api.post("/api/auth/sign-in", json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2].json()
    assert refused["code"] == "too_many_requests" and "at most 2/minute" in refused["reason"]
    assert int(answers[2].headers["Retry-After"]) >= 1
