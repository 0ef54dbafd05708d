"""A local fake of a Web Push service (RFC 8030), served over HTTP on a free port.

It holds each fake device's private keys, as a browser does, and for every push checks the
VAPID header (RFC 8292: an ES256 JWT for this origin, signed by the key in ``k``, which must be
the server's) and decrypts the payload with ``http_ece`` (aes128gcm, RFC 8291). What it
accepted is in ``got`` as (device, decoded JSON); what it refused in ``refused``. A device may
be told to answer statuses in turn (``answers``: 410 for a device gone, 500 for an outage).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakeDevice:
    name: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64(raw)


class FakePush:
    def __init__(
        self, server_key: str | None = None, *, check: bool = True, delay: float = 0.0
    ) -> None:
        self.server_key = server_key  # the VAPID public key every push must be signed with
        self.check = check  # a benchmark's fake counts without decrypting
        # Seconds between taking a message and answering, as a far push service takes: a
        # sender killed meanwhile never hears that it was delivered.
        self.delay = delay
        self.base = ""
        self.devices: dict[str, FakeDevice] = {}
        self.answers: dict[str, list[int]] = {}
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.count = 0
        self.refused: list[str] = []
        self.lock = threading.Lock()

    def device(self, name: str) -> dict[str, Any]:
        """A new device's subscription, as ``PushSubscription.toJSON()`` gives it."""
        made = FakeDevice(name, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.devices[name] = made
        return {
            "endpoint": f"{self.base}push/{name}",
            "keys": {"p256dh": made.p256dh, "auth": b64(made.auth)},
        }

    def of(self, name: str) -> list[dict[str, Any]]:
        return [body for who, body in self.got if who == name]

    def _vapid(self, header: str) -> str | None:
        """Why the VAPID header is wrong, or None."""
        scheme, _, rest = header.partition(" ")
        if scheme != "vapid":
            return f"scheme {scheme}"
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        if self.server_key is not None and parts.get("k") != self.server_key:
            return "not the server's key"
        head, claims, signature = parts["t"].split(".")
        if json.loads(unb64(head)) != {"typ": "JWT", "alg": "ES256"}:
            return "header"
        body = json.loads(unb64(claims))
        if body.get("aud") != self.base.rstrip("/"):
            return f"aud {body.get('aud')}"
        if not time.time() < body.get("exp", 0) <= time.time() + 24 * 3600:
            return "exp"
        if not str(body.get("sub", "")).startswith(("mailto:", "https:")):
            return "sub"
        raw = unb64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
        try:
            key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "signature"
        return None

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        name = path.rpartition("/")[2]
        with self.lock:
            self.count += 1
            queued = self.answers.get(name)
            if queued:
                return queued.pop(0)
        if not self.check:
            return 201
        device = self.devices.get(name)
        if device is None:
            return 404
        wrong = self._vapid(headers.get("authorization", ""))
        if wrong is None and headers.get("content-encoding") != "aes128gcm":
            wrong = "content-encoding"
        if wrong is None and not headers.get("ttl", "").isdigit():
            wrong = "ttl"
        if wrong is not None:
            self.refused.append(wrong)
            return 403
        plain = http_ece.decrypt(
            body, private_key=device.key, auth_secret=device.auth, version="aes128gcm"
        )
        with self.lock:
            self.got.append((name, json.loads(plain)))
        return 201

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "GET":  # how many it was sent, for a fake in another process
            count = json.dumps({"count": self.count}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": count})
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = self.answer(scope["path"], headers, body)
        if self.delay:
            await asyncio.sleep(self.delay)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
