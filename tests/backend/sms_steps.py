"""Steps of the sign-up tests: ask for a code, read it where the console sender put it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from backend.sms.service import console_file


def console_messages(client: AsyncTestClient) -> list[dict[str, Any]]:
    """What the console sender wrote to the data folder, oldest first."""
    path: Path = console_file(client.app.state.settings)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def ask_code(client: AsyncTestClient, phone: str, purpose: str = "sign_up") -> str:
    """A code sent to ``phone`` for ``purpose``, as the resident reads it off their phone."""
    before = len(console_messages(client))
    r = await client.post("/api/auth/sms-code", json={"phone": phone, "purpose": purpose})
    assert r.status_code == 202, r.text
    assert r.json() == {"expires_in": 300, "resend_after": 60}
    [message] = console_messages(client)[before:]
    assert message["phone"] == phone and message["template"] == "verification_code"
    assert message["params"]["code"] in message["text"]
    return message["params"]["code"]


async def sign_up(client: AsyncTestClient, phone: str, **extra: Any) -> dict[str, Any]:
    code = await ask_code(client, phone)
    body = {"phone": phone, "code": code, "password": "my-own-password", "name": "王小红"}
    r = await client.post("/api/auth/sign-up", json=body | extra)
    assert r.status_code == 201, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
