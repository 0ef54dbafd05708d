"""Every setting of Wangge, read from the environment in one place.

Nothing else in the code base reads ``os.environ``: the app factory, the command line and
the tests all build a :class:`Settings` and pass it on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from limits import parse

MIN_SECRET_LENGTH = 32
SMS_PROVIDERS = ("console", "aliyun", "tencent")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. ``Settings.from_env()`` is the only constructor the app uses."""

    data_dir: Path = Path("data")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    pwa_dist: Path = Path(__file__).resolve().parents[2] / "pwa" / "dist"
    token_ttl_hours: int = 24 * 14
    # Seconds between runs of the overdue scheduler; 0 is off. Off unless read from the
    # environment: an app a test or a tool builds does not escalate cases behind its back.
    escalation_interval_s: float = 0.0
    # Every Redis key starts with this: deployments (or test runs) can share one server.
    redis_prefix: str = "wangge:"
    # The live stream (backend/live): how many messages may wait for a client that reads too
    # slowly (on top of what its connection buffers) before it is closed with 4408; and how
    # often each process looks at the event log when no wake-up came (writes made by another
    # process without Redis, or by the command line).
    live_backlog: int = 256
    live_poll_s: float = 1.0
    # Bytes of text that may wait for such a client (a city-wide positions frame can be a few
    # hundred KB), and how often each subscriber gets its one frame of the workers that moved.
    live_backlog_bytes: int = 8 << 20
    live_positions_s: float = 1.0
    # HTTP requests a process answers at once (backend/core/shedding.py); past it, 503
    # overloaded with Retry-After. Writes get three quarters of it, the rest is kept for reads.
    max_in_flight: int = 64
    # How long a stopping ``wangge serve`` waits for the requests it holds before it cancels
    # them and shuts down anyway: less than systemd's TimeoutStopSec (deploy/wangge@.service,
    # 30 s), so that the app's own shutdown (buffered positions written) always runs.
    shutdown_timeout_s: int = 20
    # Photos (backend/core/photo_gate.py): a picture whose header declares more pixels than
    # this is refused before it is decoded; at most this many uploads are decoded at once in a
    # process (a decode holds memory by its pixels), and an upload waits at most this long for
    # its turn before it is answered 503 busy.
    max_image_pixels: int = 50_000_000
    image_decodes: int = 2
    image_wait_s: float = 10.0
    # Patrol logs (巡查日志) count the local day of this timezone.
    timezone: str = "Asia/Shanghai"
    # A raster tile URL template ({z}/{x}/{y}) drawn under Wangge's own layers, such as a
    # 天地图 layer with its key; none by default, so the map needs no internet.
    basemap_url: str | None = None
    # Whether people who are not signed in see grid staff's phone numbers whole; masked by
    # default, since a public page listing every post holder hands out their sign-in names.
    publish_staff_phones: bool = False
    # Proxies whose X-Forwarded-For / Forwarded headers are believed (addresses or CIDRs);
    # from anyone else those headers change nothing (backend/core/client.py).
    trusted_proxies: tuple[str, ...] = ()
    # Who GET /metrics answers (addresses or CIDRs, after WANGGE_TRUSTED_PROXIES): anyone else
    # gets 404. With several worker processes their figures are pooled in ``metrics_dir``
    # (prometheus-client's PROMETHEUS_MULTIPROC_DIR, which `wangge serve --workers N` sets).
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    metrics_dir: Path | None = None
    # "text" (for people) or "json" (one object per line, for a log collector).
    log_format: str = "text"
    # Text messages (backend/sms/): ``console`` writes them to the log and to
    # ``data_dir/sms.log``; ``aliyun`` and ``tencent`` send them through that provider's API
    # with the city's keys, sign name and templates (name=provider template id, see
    # backend/sms/templates.py). The endpoint is the provider's unless set (a test's fake).
    sms: str = "console"
    sms_key_id: str = ""
    sms_key_secret: str = field(default="", repr=False)
    sms_sign_name: str = ""
    sms_app_id: str = ""  # Tencent's SmsSdkAppId
    sms_region: str = ""  # Tencent's X-TC-Region (ap-guangzhou unless set)
    sms_endpoint: str | None = None
    sms_templates: tuple[tuple[str, str], ...] = ()
    # Messages one phone may be sent in 24 hours, whatever they are: a wrong number typed in
    # over and over must not turn the city's SMS account against a stranger.
    sms_daily_cap: int = 10
    # Notifications (backend/notify/): the VAPID key pair Web Push is signed with (a PEM or
    # base64url private key; made once into ``data_dir/vapid.pem`` when empty) and the contact
    # push services are given; the address links in text messages start with; how often the
    # sender looks at the event log (0 is off, as for an app a test builds) and how long a
    # process holds messages it took before another may take them (it may have died).
    vapid_private_key: str = field(default="", repr=False)
    vapid_subject: str = "mailto:admin@wangge.invalid"
    public_url: str = ""
    notify_interval_s: float = 0.0
    notify_lease_s: float = 60.0
    # Rate limits set by the city instead of the code's, by rule name ("sign_in": "300/minute"):
    # a street centre whose staff all reach the server through one NAT address needs more
    # sign-ins per address than a phone does (backend/core/ratelimit.py).
    rate_limits: tuple[tuple[str, str], ...] = ()
    # The levels whose cases may be dispatched straight to a functional department. Today's
    # rule by default: a street or above (街道吹哨、部门报到); a grid or community case that
    # needs a department is escalated first. A city that lets its communities call them in
    # sets WANGGE_DIRECT_DISPATCH_LEVELS=community,street,district,city.
    direct_dispatch_levels: tuple[str, ...] = ("street", "district", "city")

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'wangge.sqlite'}")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read ``WANGGE_*`` variables plus the conventional ``DATABASE_URL`` and ``REDIS_URL``."""
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("WANGGE_DATA_DIR", "data"))
        settings = cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("WANGGE_SECRET_KEY", ""),
            host=env.get("WANGGE_HOST", "127.0.0.1"),
            port=int(env.get("WANGGE_PORT", "8000")),
            token_ttl_hours=int(env.get("WANGGE_TOKEN_TTL_HOURS", str(24 * 14))),
            escalation_interval_s=float(env.get("WANGGE_ESCALATION_INTERVAL_S", "60")),
            redis_prefix=env.get("WANGGE_REDIS_PREFIX", "wangge:"),
            live_backlog=int(env.get("WANGGE_LIVE_BACKLOG", "256")),
            live_poll_s=float(env.get("WANGGE_LIVE_POLL_S", "1")),
            live_backlog_bytes=int(env.get("WANGGE_LIVE_BACKLOG_BYTES", str(8 << 20))),
            live_positions_s=float(env.get("WANGGE_LIVE_POSITIONS_S", "1")),
            max_in_flight=int(env.get("WANGGE_MAX_IN_FLIGHT", "64")),
            shutdown_timeout_s=int(env.get("WANGGE_SHUTDOWN_TIMEOUT_S", "20")),
            max_image_pixels=int(env.get("WANGGE_MAX_IMAGE_PIXELS", "50000000")),
            image_decodes=int(env.get("WANGGE_IMAGE_DECODES", "2")),
            image_wait_s=float(env.get("WANGGE_IMAGE_WAIT_S", "10")),
            timezone=env.get("WANGGE_TIMEZONE", "Asia/Shanghai"),
            basemap_url=env.get("WANGGE_BASEMAP_URL") or None,
            publish_staff_phones=env.get("WANGGE_PUBLISH_STAFF_PHONES", "").strip().lower()
            in {"1", "true", "yes", "on"},
            trusted_proxies=tuple(
                p.strip() for p in env.get("WANGGE_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            metrics_allow=tuple(
                a.strip()
                for a in env.get("WANGGE_METRICS_ALLOW", "127.0.0.1,::1").split(",")
                if a.strip()
            ),
            metrics_dir=Path(env["PROMETHEUS_MULTIPROC_DIR"])
            if env.get("PROMETHEUS_MULTIPROC_DIR")
            else None,
            log_format=env.get("WANGGE_LOG_FORMAT", "text").strip().lower() or "text",
            sms=env.get("WANGGE_SMS", "console").strip().lower() or "console",
            sms_key_id=env.get("WANGGE_SMS_KEY_ID", ""),
            sms_key_secret=env.get("WANGGE_SMS_KEY_SECRET", ""),
            sms_sign_name=env.get("WANGGE_SMS_SIGN_NAME", ""),
            sms_app_id=env.get("WANGGE_SMS_APP_ID", ""),
            sms_region=env.get("WANGGE_SMS_REGION", ""),
            sms_endpoint=env.get("WANGGE_SMS_ENDPOINT") or None,
            sms_templates=tuple(
                (name.strip(), template.strip())
                for name, _, template in (
                    pair.partition("=")
                    for pair in env.get("WANGGE_SMS_TEMPLATES", "").split(",")
                    if pair.strip()
                )
            ),
            sms_daily_cap=int(env.get("WANGGE_SMS_DAILY_CAP", "10")),
            vapid_private_key=env.get("WANGGE_VAPID_PRIVATE_KEY", ""),
            vapid_subject=env.get("WANGGE_VAPID_SUBJECT", "mailto:admin@wangge.invalid"),
            public_url=env.get("WANGGE_PUBLIC_URL", "").rstrip("/"),
            notify_interval_s=float(env.get("WANGGE_NOTIFY_INTERVAL_S", "1")),
            notify_lease_s=float(env.get("WANGGE_NOTIFY_LEASE_S", "60")),
            rate_limits=_rate_limits(env.get("WANGGE_RATE_LIMITS", "")),
            direct_dispatch_levels=_levels(
                env.get("WANGGE_DIRECT_DISPATCH_LEVELS", "street,district,city")
            ),
        )
        if settings.log_format not in LOG_FORMATS:
            raise ValueError(f"WANGGE_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        if settings.sms not in SMS_PROVIDERS:
            raise ValueError(f"WANGGE_SMS must be one of {', '.join(SMS_PROVIDERS)}")
        if "WANGGE_PWA_DIST" in env:
            settings = replace(settings, pwa_dist=Path(env["WANGGE_PWA_DIST"]))
        return settings

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    def with_secret(self) -> Settings:
        """Fill an empty secret key from ``data_dir/secret.key``, creating it once.

        A key kept in the data folder keeps tokens valid across restarts and across several
        processes that share the folder; a deployment on several machines sets
        ``WANGGE_SECRET_KEY`` instead.
        """
        if self.secret_key:
            return self.checked()
        path = self.data_dir / "secret.key"
        # The folder holds the database and this key: its owner's only.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            # Written aside then linked into place: two processes starting together end up
            # with one key, and neither reads a half-written file.
            tmp = path.with_name(f"secret.key.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        if path.stat().st_mode & 0o077:
            # A key made by hand (or by an older version) readable by others: not any more.
            with contextlib.suppress(OSError):
                path.chmod(0o600)
        return replace(self, secret_key=path.read_text().strip()).checked()

    def checked(self) -> Settings:
        """Refuse a secret that would sign tokens anyone could forge."""
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"WANGGE_SECRET_KEY (or {self.data_dir / 'secret.key'}) must be at least "
                f"{MIN_SECRET_LENGTH} characters"
            )
        return self


def _rate_limits(text: str) -> tuple[tuple[str, str], ...]:
    """``name=limit,name=limit`` (``sign_in=300/minute``); a limit ``limits`` cannot read, or
    an entry without ``=``, stops the server at start rather than limiting nothing."""
    limits: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        name, equals, limit = entry.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"WANGGE_RATE_LIMITS: {entry!r} is not name=limit")
        try:
            parse(limit.strip())
        except ValueError as exc:
            raise ValueError(f"WANGGE_RATE_LIMITS: {limit.strip()!r} is no limit ({exc})") from exc
        limits[name.strip()] = limit.strip()
    return tuple(limits.items())


_LEVELS = ("grid", "community", "street", "district", "city")


def _levels(text: str) -> tuple[str, ...]:
    """Levels written ``community,street``: an unknown one stops the server at start.

    >>> _levels("street, grid")
    ('grid', 'street')
    """
    levels = {e.strip() for e in text.split(",") if e.strip()}
    unknown = levels - set(_LEVELS)
    if unknown:
        raise ValueError(
            f"WANGGE_DIRECT_DISPATCH_LEVELS: {', '.join(sorted(unknown))} is no level"
            f" (one of {', '.join(_LEVELS)})"
        )
    return tuple(level for level in _LEVELS if level in levels)
