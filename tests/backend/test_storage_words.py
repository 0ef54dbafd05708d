"""Which low-level failures are the server's storage condition (503 with a reason) and which
stay faults of the code (500): the words for them, without a server."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from backend.core.storage import (
    DISK_FULL,
    NO_ANSWER,
    NO_PERMISSION,
    UNREACHABLE,
    storage_fault,
)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), DISK_FULL),
        (PermissionError(errno.EACCES, "Permission denied", "/data/photos/ab"), NO_PERMISSION),
        (PermissionError(errno.EPERM, "Operation not permitted"), NO_PERMISSION),
        (TimeoutError(), NO_ANSWER),
        (TimeoutError(), NO_ANSWER),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), UNREACHABLE),
    ],
)
def test_the_servers_condition_has_words_for_the_client(exc: BaseException, reason: str):
    assert storage_fault(exc) == reason


def test_a_fault_met_while_cleaning_up_after_one_is_named_by_the_first():
    try:
        try:
            raise PermissionError(errno.EACCES, "Permission denied")
        except PermissionError:
            raise RuntimeError("closing the file failed too")  # noqa: B904 (the context is the point)
    except RuntimeError as exc:
        assert storage_fault(exc) == NO_PERMISSION


@pytest.mark.parametrize(
    "exc",
    [
        FileNotFoundError(errno.ENOENT, "No such file"),  # a path the code got wrong
        IsADirectoryError(errno.EISDIR, "Is a directory"),
        sqlite3.OperationalError("no such column: x"),  # a query the code got wrong
        ValueError("bad"),
    ],
)
def test_a_fault_of_the_code_is_no_storage_condition(exc: BaseException):
    assert storage_fault(exc) is None
