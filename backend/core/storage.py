"""Storage that cannot take a write: which failures of the disk or the database are the
server's condition rather than a fault of the request, and how to say so.

A full disk, a read-only file system or database, and a PostgreSQL that is down or was cut
off each reach the code as a different exception of a different library; every one of them
means "try again later" to a client (503 ``storage_unavailable`` with ``Retry-After``, backend/
errors.py) and "degraded" to the health probe (backend/health/routes.py).
"""

from __future__ import annotations

import errno
import sqlite3

import asyncpg

DISK_FULL = "the disk is full"
READ_ONLY_DATABASE = "the database is read-only"
READ_ONLY_DISK = "the data folder is on a read-only disk"
DISK_ERROR = "the disk cannot be read or written"
UNREACHABLE = "the database cannot be reached"
CANNOT_OPEN = "the database file cannot be opened"
NO_PERMISSION = "the server may not write its data folder"
NO_ANSWER = "the database or the disk did not answer in time"
# Seconds a client is asked to wait: long enough for an operator to free space or restart the
# database, short enough that a phone's outbox sends again soon after.
RETRY_AFTER_S = 30

# By SQLite's primary result code (the low byte of the extended code Python gives).
_SQLITE = {
    13: DISK_FULL,  # SQLITE_FULL: "database or disk is full"
    8: READ_ONLY_DATABASE,  # SQLITE_READONLY: "attempt to write a readonly database"
    10: DISK_ERROR,  # SQLITE_IOERR: "disk I/O error"
    14: CANNOT_OPEN,  # SQLITE_CANTOPEN: "unable to open database file"
}
_ERRNO = {
    errno.ENOSPC: DISK_FULL,
    errno.EDQUOT: DISK_FULL,
    errno.EROFS: READ_ONLY_DISK,
    errno.EIO: DISK_ERROR,
    # A data folder left to another user by a restore or an upgrade run as root.
    errno.EACCES: NO_PERMISSION,
    errno.EPERM: NO_PERMISSION,
    errno.ECONNREFUSED: UNREACHABLE,
    errno.ECONNRESET: UNREACHABLE,
    errno.ECONNABORTED: UNREACHABLE,
    errno.EPIPE: UNREACHABLE,
    errno.EHOSTUNREACH: UNREACHABLE,
    errno.ENETUNREACH: UNREACHABLE,
    errno.ETIMEDOUT: UNREACHABLE,
}
# PostgreSQL's own words for the same conditions (SQLSTATE classes 08, 53, 57, and two more).
_POSTGRES: tuple[tuple[type[Exception], str], ...] = (
    (asyncpg.DiskFullError, DISK_FULL),
    (asyncpg.ReadOnlySQLTransactionError, READ_ONLY_DATABASE),
    (asyncpg.PostgresConnectionError, UNREACHABLE),  # 08: the connection failed or was lost
    (asyncpg.AdminShutdownError, UNREACHABLE),  # 57P01: the server is shutting down
    (asyncpg.CrashShutdownError, UNREACHABLE),
    (asyncpg.CannotConnectNowError, UNREACHABLE),  # 57P03: starting up or in recovery
    (asyncpg.DatabaseDroppedError, UNREACHABLE),
    (asyncpg.InvalidCatalogNameError, UNREACHABLE),  # 3D000: the database is gone
    (asyncpg.TooManyConnectionsError, UNREACHABLE),
)


def storage_fault(exc: BaseException) -> str | None:
    """Why storage could not do what ``exc`` reports, in words for the client; ``None`` when
    ``exc`` (or what it was raised from) is no storage condition but a fault of the code."""
    seen: set[int] = set()
    current: BaseException | None = exc
    # A failure while cleaning up after a storage fault (closing a connection on a full disk)
    # arrives with the first one as its context.
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        reason = _own_fault(current)
        if reason is not None:
            return reason
        current = current.__cause__ or current.__context__
    return None


def _own_fault(exc: BaseException) -> str | None:
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return None if code is None else _SQLITE.get(code & 0xFF)
    for cls, reason in _POSTGRES:
        if isinstance(exc, cls):
            return reason
    if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
        return UNREACHABLE  # a pooled connection the server has hung up
    if isinstance(exc, asyncpg.InternalClientError) and "another operation" in str(exc):
        # A pooled connection whose server ended it while it sat idle, used before asyncpg
        # saw the socket close ("cannot switch to state 15; another operation (2) is in
        # progress": MagicStack/asyncpg#784, #1069; SQLAlchemy counts it as a disconnect).
        return UNREACHABLE
    if isinstance(exc, TimeoutError) and exc.errno is None:
        # asyncpg's connect and pool acquire, and SQLite's busy wait, give up this way.
        return NO_ANSWER
    if isinstance(exc, OSError):
        if exc.errno in _ERRNO:
            return _ERRNO[exc.errno]
        if isinstance(exc, ConnectionError) or "Connect call failed" in str(exc):
            # asyncio reports every address of a host failing as one errno-less OSError.
            return UNREACHABLE
    return None
