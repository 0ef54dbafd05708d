"""Tencent Cloud SMS (API 3.0, SendSms version 2021-01-11): a JSON POST signed with
TC3-HMAC-SHA256.

The canonical request is ``POST``, the path ``/``, an empty query, the signed headers
``content-type`` and ``host`` as ``name:value`` lines, their names, and the hex SHA-256 of the
body, joined by newlines. The string to sign is ``TC3-HMAC-SHA256``, the timestamp, the scope
``DATE/sms/tc3_request`` (the UTC date of the timestamp) and the hex SHA-256 of the canonical
request. The key is derived by HMAC-SHA256 from ``"TC3" + SecretKey`` over the date, the
service and ``tc3_request`` in turn; the signature is the hex HMAC of the string to sign.

>>> a = authorization("id", "key", "sms.tencentcloudapi.com", b"{}", 1_700_000_000)
>>> a.startswith("TC3-HMAC-SHA256 Credential=id/2023-11-14/sms/tc3_request, ")
True
>>> a == authorization("id", "other key", "sms.tencentcloudapi.com", b"{}", 1_700_000_000)
False
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from backend.core.settings import Settings
from backend.sms.templates import Template

ENDPOINT = "https://sms.tencentcloudapi.com/"
VERSION = "2021-01-11"
REGION = "ap-guangzhou"
SERVICE = "sms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def authorization(
    secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int
) -> str:
    """The ``Authorization`` header of a POST of ``payload`` to ``host`` at ``timestamp``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        (
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{host.lower()}\n",
            SIGNED_HEADERS,
            hashlib.sha256(payload).hexdigest(),
        )
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    string_to_sign = "\n".join(
        (ALGORITHM, str(timestamp), scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), SERVICE), "tc3_request")
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )


def e164(phone: str) -> str:
    """Tencent wants +86 before a mainland number.

    >>> e164("13812345678"), e164("+85291234567")
    ('+8613812345678', '+85291234567')
    """
    return phone if phone.startswith("+") else f"+86{phone}"


def signed_request(
    settings: Settings,
    host: str,
    phone: str,
    template: Template,
    template_id: str,
    params: Mapping[str, str],
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a SendSms POST to one phone, signed."""
    body = {
        "PhoneNumberSet": [e164(phone)],
        "SmsSdkAppId": settings.sms_app_id,
        "SignName": settings.sms_sign_name,
        "TemplateId": template_id,
        "TemplateParamSet": [params[name] for name in template.params],
    }
    payload = json.dumps(body, ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "Authorization": authorization(
            settings.sms_key_id, settings.sms_key_secret, host, payload, timestamp
        ),
        "Content-Type": CONTENT_TYPE,
        "Host": host,
        "X-TC-Action": "SendSms",
        "X-TC-Version": VERSION,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": settings.sms_region or REGION,
    }
    return payload, headers
