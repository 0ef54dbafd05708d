"""Web Push: the VAPID key pair, and a pusher that encrypts a payload for one subscription
(aes128gcm, RFC 8291) and posts it to its push service with a VAPID header (RFC 8292)."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from py_vapid.utils import b64urlencode
from pywebpush import WebPusher

from backend.core.settings import Settings

TTL_S = 24 * 3600  # a push service keeps a message this long for a phone that is off
_JWT_S = 12 * 3600  # a VAPID token's life (at most 24 h); renewed an hour before it ends
TIMEOUT_S = 10.0


def vapid_key(settings: Settings) -> Vapid:
    """The key from ``WANGGE_VAPID_PRIVATE_KEY`` or ``data_dir/vapid.pem``, made once there:
    every process sharing the folder signs with the same key, so that subscriptions made
    against its public key stay valid across restarts."""
    if settings.vapid_private_key:
        text = settings.vapid_private_key.strip()
        if text.startswith("-----BEGIN"):
            return Vapid.from_pem(text.encode())
        return Vapid.from_string(text)
    path = settings.data_dir / "vapid.pem"
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        made = Vapid()
        made.generate_keys()
        _write_once(path, made.private_pem())
    return Vapid.from_file(str(path))


def _write_once(path: Path, pem: bytes) -> None:
    # As secret.key: written aside and linked into place, so that two processes starting
    # together end up with one key.
    tmp = path.with_name(f"{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def public_key(key: Vapid) -> str:
    """The public key as the browser's ``applicationServerKey`` takes it (base64url, X9.62)."""
    raw = key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(raw)


@dataclass(frozen=True)
class Device:
    endpoint: str
    p256dh: str
    auth: str


class Pusher:
    """Posts pushes over one connection pool; a VAPID token is signed once per push service
    (its origin) and reused until an hour before it expires."""

    def __init__(self, key: Vapid, subject: str, *, connections: int = 64) -> None:
        self.key = key
        self.subject = subject
        self.connections = connections
        self._tokens: dict[str, tuple[float, dict[str, str]]] = {}
        self._session: aiohttp.ClientSession | None = None

    def _header(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        held = self._tokens.get(audience)
        if held is None or held[0] - now < 3600:
            expires = int(now) + _JWT_S
            claims = {"aud": audience, "exp": expires, "sub": self.subject}
            held = (expires, self.key.sign(claims))
            self._tokens[audience] = held
        return dict(held[1])

    async def send(self, device: Device, data: bytes, topic: str = "") -> int:
        """Post ``data`` to ``device``; the push service's status (201 taken, 404/410 gone)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.connections)
            self._session = aiohttp.ClientSession(connector=connector)
        info = {"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}}
        headers = self._header(device.endpoint)
        if topic:
            # A message not yet delivered is replaced by one with the same topic: a retry of
            # one the service took already does not reach the phone twice while it is off.
            headers["Topic"] = topic
        pusher = WebPusher(info, aiohttp_session=self._session)
        response = await pusher.send_async(
            data, headers, ttl=TTL_S, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)
        )
        assert not isinstance(response, str)  # a curl command only when asked for one
        response.release()
        return response.status

    async def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):
                await self._session.close()
            self._session = None

    async def __aenter__(self) -> Pusher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
