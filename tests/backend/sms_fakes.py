"""Local fakes of the Aliyun SMS and Tencent Cloud SMS APIs, served over HTTP on a free port.

Each recomputes the request's signature by the provider's published algorithm (written out
here again, apart from backend/sms/, so that a mistake there is not repeated here) and answers
as the real API does: success with a message id, a refused signature or key in the provider's
error shape, and the per-number refusals of a number over its limit. What they accepted is in
``sent``; the error codes they answered in ``refused``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

import uvicorn

from tests.live.conftest import free_port

Answer = tuple[int, dict[str, Any]]


class Fake:
    def __init__(self, key_id: str, secret: str, templates: dict[str, tuple[str, ...]]) -> None:
        self.key_id = key_id
        self.secret = secret
        self.templates = templates  # template id: its variables
        self.limited: set[str] = set()  # numbers over their provider-side limit
        self.sent: list[dict[str, Any]] = []
        self.refused: list[str] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, answer = self.answer(scope["method"], scope["path"], headers, body)
        code = answer.get("Code") or answer.get("Response", {}).get("Error", {}).get("Code")
        if code and code != "OK":
            self.refused.append(code)
        data = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": data})

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        raise NotImplementedError


class FakeAliyun(Fake):
    """dysmsapi 2017-05-25 SendSms, RPC style, HMAC-SHA1 signature version 1.0."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nonces: set[str] = set()

    @staticmethod
    def _encode(text: str) -> str:
        # RFC 3986 as Aliyun's docs spell it: URL-encode, then + → %20, * → %2A, %7E → ~.
        return quote(text, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

    def _signature(self, method: str, params: dict[str, str]) -> str:
        pairs = sorted((self._encode(k), self._encode(v)) for k, v in params.items())
        canonical = "&".join(f"{k}={v}" for k, v in pairs)
        to_sign = f"{method}&{self._encode('/')}&{self._encode(canonical)}"
        mac = hmac.new(f"{self.secret}&".encode(), to_sign.encode(), hashlib.sha1)
        return base64.b64encode(mac.digest()).decode()

    def _error(self, status: int, code: str, message: str) -> Answer:
        return status, {
            "RequestId": str(uuid.uuid4()),
            "HostId": "dysmsapi.aliyuncs.com",
            "Code": code,
            "Message": message,
        }

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if method == "POST":
            assert headers["content-type"].startswith("application/x-www-form-urlencoded")
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        else:
            return self._error(400, "UnsupportedHTTPMethod", "POST only in this fake")
        signature = params.pop("Signature", None)
        required = [
            *("AccessKeyId", "Action", "Format", "SignatureMethod", "SignatureNonce"),
            *("SignatureVersion", "Timestamp", "Version"),
            *("PhoneNumbers", "SignName", "TemplateCode"),
        ]
        missing = [name for name in required if not params.get(name)]
        if missing or signature is None:
            return self._error(400, "MissingParameter", f"missing {missing or 'Signature'}")
        if (params["Action"], params["Version"]) != ("SendSms", "2017-05-25"):
            return self._error(400, "InvalidAction.NotFound", "no such action in this version")
        if (params["SignatureMethod"], params["SignatureVersion"]) != ("HMAC-SHA1", "1.0"):
            return self._error(400, "InvalidSignatureMethod", "HMAC-SHA1, version 1.0")
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - stamp).total_seconds()) > 15 * 60:
            return self._error(400, "InvalidTimeStamp.Expired", "timestamp out of range")
        if params["SignatureNonce"] in self.nonces:
            return self._error(400, "SignatureNonceUsed", "the nonce was used already")
        self.nonces.add(params["SignatureNonce"])
        if params["AccessKeyId"] != self.key_id:
            return self._error(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        if not hmac.compare_digest(signature, self._signature(method, params)):
            return self._error(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
            )
        request_id = str(uuid.uuid4())
        variables = self.templates.get(params["TemplateCode"])
        if variables is None:
            return 200, {
                "RequestId": request_id,
                "Code": "isv.SMS_TEMPLATE_ILLEGAL",
                "Message": "模板不合法",
            }
        try:
            values = json.loads(params.get("TemplateParam", "{}"))
        except ValueError:
            return 200, {
                "RequestId": request_id,
                "Code": "isv.INVALID_JSON_PARAM",
                "Message": "JSON参数不合法",
            }
        if set(values) != set(variables):
            return 200, {
                "RequestId": request_id,
                "Code": "isv.TEMPLATE_MISSING_PARAMETERS",
                "Message": "模板缺少变量",
            }
        if params["PhoneNumbers"] in self.limited:
            return 200, {
                "RequestId": request_id,
                "Code": "isv.BUSINESS_LIMIT_CONTROL",
                "Message": "触发天级流控Permits:10",
            }
        self.sent.append(
            {
                "phone": params["PhoneNumbers"],
                "sign": params["SignName"],
                "template": params["TemplateCode"],
                "params": values,
            }
        )
        biz_id = f"{int(time.time())}^{uuid.uuid4().int % 10**10}"
        return 200, {"RequestId": request_id, "Code": "OK", "Message": "OK", "BizId": biz_id}


class FakeTencent(Fake):
    """sms 2021-01-11 SendSms, API 3.0, TC3-HMAC-SHA256."""

    def __init__(self, *args: Any, app_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app_id = app_id

    def _signature(
        self, headers: dict[str, str], signed: list[str], body: bytes, stamp: int
    ) -> str:
        date = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d")
        canonical_headers = "".join(f"{h}:{headers.get(h, '').strip().lower()}\n" for h in signed)
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                canonical_headers,
                ";".join(signed),
                hashlib.sha256(body).hexdigest(),
            ]
        )
        scope = f"{date}/sms/tc3_request"
        to_sign = "\n".join(
            ["TC3-HMAC-SHA256", str(stamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )

        def mac(key: bytes, text: str) -> bytes:
            return hmac.new(key, text.encode(), hashlib.sha256).digest()

        key = mac(mac(mac(f"TC3{self.secret}".encode(), date), "sms"), "tc3_request")
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    def _error(self, code: str, message: str) -> Answer:
        return 200, {
            "Response": {
                "Error": {"Code": code, "Message": message},
                "RequestId": str(uuid.uuid4()),
            }
        }

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if method != "POST" or path != "/":
            return self._error("InvalidParameter", "POST / only in this fake")
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return self._error("InvalidAction", "no such action in this version")
        if not headers.get("x-tc-region"):
            return self._error("MissingParameter", "X-TC-Region")
        try:
            stamp = int(headers["x-tc-timestamp"])
            algorithm, rest = headers["authorization"].split(" ", 1)
            fields = dict(part.strip().split("=", 1) for part in rest.split(","))
            key_id, date, service, tail = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
            signature = fields["Signature"]
        except (KeyError, ValueError):
            return self._error("AuthFailure.InvalidAuthorization", "Authorization is malformed")
        if algorithm != "TC3-HMAC-SHA256" or (service, tail) != ("sms", "tc3_request"):
            return self._error("AuthFailure.InvalidAuthorization", "not TC3-HMAC-SHA256 for sms")
        if "content-type" not in signed or "host" not in signed:
            return self._error("AuthFailure.InvalidAuthorization", "sign content-type and host")
        if abs(time.time() - stamp) > 300:
            return self._error("AuthFailure.SignatureExpire", "signature expired")
        if date != datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d"):
            return self._error(
                "AuthFailure.InvalidAuthorization", "credential date is not the timestamp's"
            )
        if key_id != self.key_id:
            return self._error("AuthFailure.SecretIdNotFound", "The SecretId is not found")
        if not hmac.compare_digest(signature, self._signature(headers, signed, body, stamp)):
            return self._error(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. "
                "Please check your signature is correct.",
            )
        request = json.loads(body)
        if request.get("SmsSdkAppId") != self.app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist", "SdkAppId does not exist")
        variables = self.templates.get(request.get("TemplateId"))
        if variables is None:
            return self._error(
                "FailedOperation.TemplateIncorrectOrUnapproved", "template not approved"
            )
        if len(request.get("TemplateParamSet", [])) != len(variables):
            return self._error("InvalidParameterValue.TemplateParameterFormatError", "parameters")
        statuses = []
        for number in request["PhoneNumberSet"]:
            status = {
                "SerialNo": uuid.uuid4().hex,
                "PhoneNumber": number,
                "Fee": 1,
                "SessionContext": "",
                "IsoCode": "CN",
            }
            if number in self.limited:
                status |= {
                    "Fee": 0,
                    "Code": "LimitExceeded.PhoneNumberDailyLimit",
                    "Message": "the number reached its daily limit",
                }
                self.refused.append(status["Code"])
            else:
                status |= {"Code": "Ok", "Message": "send success"}
                self.sent.append(
                    {
                        "phone": number,
                        "sign": request["SignName"],
                        "template": request["TemplateId"],
                        "params": dict(zip(variables, request["TemplateParamSet"], strict=True)),
                    }
                )
            statuses.append(status)
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}}


@contextmanager
def serving(app: Fake) -> Iterator[str]:
    """``app`` on a free port of this machine, for as long as the block runs; its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the fake did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(5)
