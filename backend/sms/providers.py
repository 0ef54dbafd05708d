"""The senders behind ``WANGGE_SMS``: the console (the log and ``data_dir/sms.log``) and the
signed HTTP APIs of Aliyun SMS and Tencent Cloud SMS. Each takes one message and returns the
provider's id for it, or raises :class:`SmsFailed` with the provider's own error code."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import anyio
import httpx

from backend.core.phones import masked_phone
from backend.core.settings import Settings
from backend.sms import aliyun, tencent
from backend.sms.templates import Template

log = logging.getLogger("wangge.sms")

TIMEOUT_S = 10.0  # Aliyun asks for at least 1 s; a provider slower than this is down for us


class SmsFailed(Exception):
    """The provider refused or could not be reached; ``code`` is its own error code."""

    def __init__(self, provider: str, code: str, message: str) -> None:
        super().__init__(f"{provider}: {code}: {message}")
        self.provider = provider
        self.code = code
        self.message = message


def console_file(settings: Settings) -> Path:
    """Where the console sender appends each message, whole, one JSON object a line."""
    return settings.data_dir / "sms.log"


async def send(
    settings: Settings, phone: str, template: Template, params: Mapping[str, str]
) -> str:
    """Send one message through the configured provider; the provider's id for it."""
    if settings.sms == "console":
        return await _console(settings, phone, template, params)
    template_id = dict(settings.sms_templates).get(template.name)
    if not template_id:
        raise SmsFailed(settings.sms, "no_template", f"WANGGE_SMS_TEMPLATES has no {template.name}")
    if not (settings.sms_key_id and settings.sms_key_secret and settings.sms_sign_name):
        raise SmsFailed(settings.sms, "not_configured", "SMS keys or sign name are not set")
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            if settings.sms == "aliyun":
                return await _aliyun(client, settings, phone, template_id, params)
            return await _tencent(client, settings, phone, template, template_id, params)
    except httpx.HTTPError as exc:
        raise SmsFailed(settings.sms, "unreachable", repr(exc)) from exc


async def _console(
    settings: Settings, phone: str, template: Template, params: Mapping[str, str]
) -> str:
    message_id = uuid4().hex
    text = template.render(params)
    log.info("SMS to %s (%s): %s", masked_phone(phone), template.name, text)
    line = {
        "id": message_id,
        "at": datetime.now(UTC).isoformat(),
        "phone": phone,
        "template": template.name,
        "params": dict(params),
        "text": text,
    }
    data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
    await anyio.to_thread.run_sync(_append, console_file(settings), data)
    return message_id


def _append(path: Path, data: bytes) -> None:
    # One write of one line with O_APPEND: processes sharing the folder do not interleave.
    # Readable by the owner only: the lines hold whole phone numbers and codes.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


async def _aliyun(
    client: httpx.AsyncClient,
    settings: Settings,
    phone: str,
    template_id: str,
    params: Mapping[str, str],
) -> str:
    form = aliyun.signed_form(settings, phone, template_id, params)
    response = await client.post(settings.sms_endpoint or aliyun.ENDPOINT, data=form)
    body = _json(response)
    if response.status_code == 200 and body.get("Code") == "OK":
        return str(body.get("BizId", ""))
    code = str(body.get("Code") or f"http_{response.status_code}")
    raise SmsFailed("aliyun", code, str(body.get("Message", ""))[:200])


async def _tencent(
    client: httpx.AsyncClient,
    settings: Settings,
    phone: str,
    template: Template,
    template_id: str,
    params: Mapping[str, str],
) -> str:
    url = httpx.URL(settings.sms_endpoint or tencent.ENDPOINT)
    payload, headers = tencent.signed_request(
        settings, url.netloc.decode(), phone, template, template_id, params
    )
    response = await client.post(url, content=payload, headers=headers)
    answer = _json(response).get("Response")
    if not isinstance(answer, dict):
        raise SmsFailed("tencent", f"http_{response.status_code}", "no Response in the answer")
    error = answer.get("Error")
    if isinstance(error, dict):
        raise SmsFailed("tencent", str(error.get("Code")), str(error.get("Message", ""))[:200])
    statuses = answer.get("SendStatusSet") or [{}]
    status = statuses[0] if isinstance(statuses[0], dict) else {}
    # The call succeeds as a whole while a number fails alone (its daily limit, a bad number).
    if status.get("Code") != "Ok":
        raise SmsFailed("tencent", str(status.get("Code")), str(status.get("Message", ""))[:200])
    return str(status.get("SerialNo", ""))


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
