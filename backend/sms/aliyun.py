"""Aliyun SMS (dysmsapi, version 2017-05-25): an RPC call signed with HMAC-SHA1 (signature
version 1.0, Alibaba Cloud's "V2 RPC" signing).

Every parameter but ``Signature`` is sorted by name; names and values are percent-encoded
(RFC 3986: only ``A-Z a-z 0-9 - _ . ~`` are left, a space is ``%20``), joined ``k=v`` with
``&``; the string to sign is ``METHOD&%2F&`` + that canonical string percent-encoded again;
the signature is Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)).

>>> p = {"Action": "SendSms", "TemplateParam": '{"code":"1 2*"}', "AccessKeyId": "id"}
>>> string_to_sign("POST", p)
'POST&%2F&AccessKeyId%3Did%26Action%3DSendSms%26TemplateParam%3D%257B%2522code%2522%253A%25221%25202%252A%2522%257D'
>>> signature("secret", "POST", p) == signature("secret", "POST", dict(reversed(p.items())))
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote
from uuid import uuid4

from backend.core.settings import Settings

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
VERSION = "2017-05-25"
REGION = "cn-hangzhou"


def percent_encode(text: str) -> str:
    return quote(text, safe="~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    key = f"{secret}&".encode()
    digest = hmac.new(key, string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_form(
    settings: Settings, phone: str, template_id: str, params: Mapping[str, str]
) -> dict[str, str]:
    """The form of a SendSms POST to one phone, signed."""
    form = {
        "AccessKeyId": settings.sms_key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "RegionId": settings.sms_region or REGION,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": uuid4().hex,  # never twice: Aliyun refuses a replayed nonce
        "SignatureVersion": "1.0",
        "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": VERSION,
        "PhoneNumbers": phone,
        "SignName": settings.sms_sign_name,
        "TemplateCode": template_id,
        "TemplateParam": json.dumps(dict(params), ensure_ascii=False),
    }
    form["Signature"] = signature(settings.sms_key_secret, "POST", form)
    return form
