"""Security headers on every HTTP answer: the field app's pages, API answers, photos, errors.

Three Content-Security-Policies, by path:

- the field app (``/app/``, and anything else that is not data): what a Vue + Vant + MapLibre
  PWA needs and no more. Scripts and style sheets only from this origin: no inline script,
  no eval, no ``<style>`` or ``style="…"`` in markup (Vue, Vant and MapLibre set styles
  through the CSSOM, which a policy does not govern; the browser tests saw no violation on
  any screen). MapLibre draws from ``blob:`` workers and ``data:``/``blob:`` images; Vant's
  icon font is a ``data:`` URL; the live stream is a WebSocket to this host. A basemap named
  by ``WANGGE_BASEMAP_URL`` is allowed as an image and fetch source. The service worker's
  script is served under this policy too, and it is the worker's own: its fetches are
  ``connect-src``.
- data (``/api/``, ``/open311/``): nothing may load or run, should a browser ever be made to
  render an answer as a page.
- the OpenAPI viewers (``/schema``): Litestar's pages load Redoc, Swagger UI, RapiDoc and
  Stoplight Elements from public CDNs and start them with inline scripts.

A header the handler set itself is kept. HSTS is not sent: the app does not know whether it is
reached over TLS; the TLS-terminating proxy sends it (docs/deploy.md).

It is a ``before_send`` hook, not an entry of ``middleware=[...]``: Litestar builds that stack
per route, after routing, so an unknown path (404) or method (405) never passes through it
(checked on 2.25); the hook wraps the app's own ``send`` and sees every answer.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from litestar.types import Message, Scope

_SELF = "'self'"
_SCHEMA_CDNS = "https://cdn.jsdelivr.net https://unpkg.com"
# A Host header as a CSP source: a name or an IP (v6 in brackets), an optional port.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_ORIGIN_HOST = re.compile(
    r"^(?:(?:\*\.)?(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$"
)

DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SCHEMA_CSP = "; ".join(
    (
        "default-src 'none'",
        f"script-src 'self' 'unsafe-inline' {_SCHEMA_CDNS} https://cdn.redoc.ly",
        f"style-src 'self' 'unsafe-inline' {_SCHEMA_CDNS} https://fonts.googleapis.com",
        f"font-src 'self' data: {_SCHEMA_CDNS} https://fonts.gstatic.com",
        "img-src 'self' data: blob: https:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

_COMMON = (
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"geolocation=(self), camera=(self), microphone=()"),
)


def basemap_origin(url: str | None) -> str | None:
    """The CSP source that lets the map fetch ``url``'s tiles; None when it is on this origin.

    A placeholder in the host name (``t{s}.tianditu.gov.cn``) widens to its parent domain.

    >>> basemap_origin("https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY&TILECOL={x}")
    'https://t0.tianditu.gov.cn'
    >>> basemap_origin("http://t{s}.example.cn:8080/{z}/{x}/{y}.png"), basemap_origin("/tiles/{z}")
    ('http://*.example.cn:8080', None)
    """
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return None
    host = re.sub(r"^[^.]*\{[^}]*\}[^.]*\.", "*.", parts.netloc)
    if parts.scheme not in ("", "http", "https") or not _ORIGIN_HOST.match(host):
        raise ValueError(f"WANGGE_BASEMAP_URL: cannot allow tiles from {url!r}")
    # Scheme-relative (//host/…): a source without scheme takes the page's.
    return f"{parts.scheme}://{host}" if parts.scheme else host


def app_csp(host: str | None, basemap: str | None) -> str:
    """The field app's policy. The WebSocket to this host is named as well as ``'self'``,
    which browsers before CSP 3 (older iOS Safari) do not read as covering ``ws:``/``wss:``."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.match(host) else ""
    tiles = f" {basemap}" if basemap else ""
    return "; ".join(
        (
            f"default-src {_SELF}",
            f"script-src {_SELF}",
            f"style-src {_SELF}",
            f"img-src {_SELF} data: blob:{tiles}",
            # Vant's icon font is inlined as WOFF2 and names Alibaba's CDN as a WOFF fallback;
            # Chromium checks every source of a @font-face against the policy and reports one
            # it would never fetch, so the host is allowed, for fonts only.
            f"font-src {_SELF} data: at.alicdn.com",
            f"connect-src {_SELF}{sockets}{tiles}",
            f"worker-src {_SELF} blob:",
            # Browsers without worker-src (older Safari) read child-src for workers.
            f"child-src {_SELF} blob:",
            "frame-src 'none'",
            f"manifest-src {_SELF}",
            "object-src 'none'",
            f"base-uri {_SELF}",
            f"form-action {_SELF}",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """``before_send`` hook adding the headers to each ``http.response.start``."""

    def __init__(self, basemap_url: str | None = None, schema_path: str = "/schema") -> None:
        self.basemap = basemap_origin(basemap_url)
        self.schema_path = schema_path.rstrip("/")

    def policy_for(self, scope: Scope) -> str:
        path: str = scope.get("path", "")
        if path == self.schema_path or path.startswith(f"{self.schema_path}/"):
            return SCHEMA_CSP
        if path.startswith(("/api/", "/open311/")):
            return DATA_CSP
        host = next((v for k, v in scope.get("headers", ()) if k == b"host"), b"")
        return app_csp(host.decode("latin-1"), self.basemap)

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = list(message.get("headers") or ())
        present = {name.lower() for name, _ in headers}
        if b"content-security-policy" not in present:
            headers.append((b"content-security-policy", self.policy_for(scope).encode()))
        headers += [(name, value) for name, value in _COMMON if name not in present]
        message["headers"] = headers
