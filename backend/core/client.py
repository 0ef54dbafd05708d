"""Who is at the other end of a connection: the peer, or the client a trusted proxy names.

``X-Forwarded-For`` and ``Forwarded`` are written by whoever sends the request, so they are
believed only from the proxies the city lists in ``WANGGE_TRUSTED_PROXIES``; from anyone else
they change nothing. Every rate limit, and the access log, read the address this settles.
``wangge serve`` turns uvicorn's own proxy handling off (it trusts loopback by default, where
anybody on the machine can name their own address), so this is the one place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence

from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDRs, comma-separated; :class:`ValueError` names one that is neither.

    >>> parse_networks("10.0.0.1, 192.168.0.0/16")
    (IPv4Network('10.0.0.1/32'), IPv4Network('192.168.0.0/16'))
    """
    items = text.split(",") if isinstance(text, str) else text
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("["):  # [v6]:port
        text = text[1 : text.find("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in net for net in trusted)


def _forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The hops the proxies recorded, nearest last: ``Forwarded: for=`` (RFC 7239) if sent,
    else ``X-Forwarded-For``."""
    forwarded: list[str] = []
    x_forwarded: list[str] = []
    for name, value in headers:
        if name == b"forwarded":
            for element in value.decode("latin-1").split(","):
                for pair in element.split(";"):
                    key, _, val = pair.strip().partition("=")
                    if key.lower() == "for":
                        forwarded.append(val)
        elif name == b"x-forwarded-for":
            x_forwarded.extend(value.decode("latin-1").split(","))
    return [hop.strip() for hop in (forwarded or x_forwarded) if hop.strip()]


def client_host(scope: Scope, trusted: Sequence[Network]) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
    hop of the forwarded chain that is not itself a trusted proxy.

    >>> nets = parse_networks("10.0.0.0/8")
    >>> scope = {"client": ("10.0.0.5", 1), "headers": [(b"x-forwarded-for", b"1.2.3.4, 10.0.0.9")]}
    >>> client_host(scope, nets)
    '1.2.3.4'
    >>> client_host({**scope, "client": ("5.6.7.8", 1)}, nets)
    '5.6.7.8'
    """
    peer = scope.get("client")
    host = peer[0] if peer else None
    if host is None or not _trusted(host, trusted):
        return host
    for hop in reversed(_forwarded_chain(scope.get("headers", ()))):
        ip = _address(hop)
        if ip is None:
            break  # "unknown" or an obfuscated name: the chain says no more that we can trust
        host = str(ip)
        if not any(ip in net for net in trusted):
            break
    return host


def trusted_client(trusted: Sequence[Network]) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: ``scope["client"]`` becomes the address :func:`client_host` settles."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if trusted and scope["type"] in ("http", "websocket"):
                host = client_host(scope, trusted)
                peer = scope.get("client")
                if host is not None and peer is not None and host != peer[0]:
                    scope["client"] = (host, 0)
            await app(scope, receive, send)

        return middleware

    return wrap
