"""Photo files on disk, for cases and task items alike: written whole or not at all, and kept
only once the row naming them is committed; and the upload that stores them (``store``)."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
from piccolo.engine import Engine

from backend.core import photo_gate
from backend.core.db import write_transaction
from backend.core.photos import Prepared
from backend.core.settings import Settings

T = TypeVar("T")

log = logging.getLogger("wangge")


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write every file, or (on any failure, a full disk half-way included) none of them."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        for name, content in files.items():
            _write_whole(folder / name, content)
    except BaseException:
        remove_files(folder, [*files, *(f"{name}.part" for name in files)])
        raise


def _write_whole(path: Path, content: bytes) -> None:
    # Written aside then renamed: a reader never gets half a file. Synced first, so a disk
    # that fills up (or fails) says so here, and a crash cannot leave a named empty file.
    tmp = path.with_name(f"{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def remove_files(folder: Path, names: list[str]) -> None:
    """Remove what exists of ``names``; what cannot be removed (a disk turned read-only) is
    logged for an operator, and never hides the failure being cleaned up after."""
    for name in names:
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError as exc:
            log.error("photo file %s could not be removed: %s", folder / name, exc)


@dataclass
class Staged:
    """A photo's files written under fresh random names, waiting for their row."""

    file_id: str
    thumb_id: str
    kept: bool = False

    def keep(self) -> None:
        """The row naming these files is committed: they stay."""
        self.kept = True


@contextlib.asynccontextmanager
async def staged(folder: Path, prepared: Prepared) -> AsyncIterator[Staged]:
    """The photo and its thumbnail written to ``folder``, removed again when the block ends
    without :meth:`Staged.keep` (the transaction failed, or the same upload was stored by
    another request meanwhile)."""
    files = Staged(uuid.uuid4().hex, uuid.uuid4().hex)
    contents = {files.file_id: prepared.photo, files.thumb_id: prepared.thumb}
    await anyio.to_thread.run_sync(write_files, folder, contents)
    try:
        yield files
    finally:
        if not files.kept:
            # Shielded: a cancelled request still takes its files with it.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(remove_files, folder, list(contents))


async def store(
    data: bytes,
    settings: Settings,
    engine: Engine,
    earlier: Callable[[], Awaitable[T | None]],
    record: Callable[[dict[str, Any]], Awaitable[T]],
) -> tuple[T, bool]:
    """An uploaded photo stored once by its client id, for cases and task items alike: what
    ``record`` answered for it, and True; or what ``earlier`` found (the same client id sent
    before, or at the same moment by another request), and False.

    The photo is checked and cleaned (``photo_gate.prepare``), its files are written under
    data/photos, and ``record`` writes its row (the file columns given: ``file_id``,
    ``thumb_id``, ``content_type``, ``width``, ``height``, ``bytes``, ``created_at``) in a write
    transaction, after ``earlier`` is asked again under the write lock; the files stay only if
    that row is committed. ``earlier`` may refuse (409) a client id another upload has.
    """
    found = await earlier()
    if found is not None:
        return found, False
    prepared = await photo_gate.prepare(data, settings)
    async with staged(settings.data_dir / "photos", prepared) as files:
        columns: dict[str, Any] = {
            "file_id": files.file_id,
            "thumb_id": files.thumb_id,
            "content_type": prepared.info.content_type,
            "width": prepared.info.width,
            "height": prepared.info.height,
            "bytes": len(prepared.photo),
            "created_at": datetime.now(UTC),
        }
        async with write_transaction(engine):
            # Checked again under the write lock: two sends of one photo race here.
            found = await earlier()
            if found is None:
                made = await record(columns)
        if found is None:
            files.keep()
    if found is not None:  # the same upload, sent twice at once, was stored by the other
        return found, False
    return made, True
