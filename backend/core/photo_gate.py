"""Decoding uploaded photos without letting them take the server's memory, for case and task
photos alike.

A decode holds memory in proportion to the picture's pixels, whatever the file's size: four
PNGs of 281 KB, 10,000 × 8,900 pixels each, sent at once took a server from 615 MB to 4.9 GB.
So a picture whose header declares more than ``Settings.max_image_pixels`` is refused before
anything is decoded (413 ``image_too_large``), and a process decodes at most
``Settings.image_decodes`` pictures at once, each in a thread of its own; an upload that finds
no free turn within ``Settings.image_wait_s`` is answered 503 ``busy`` with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator

import anyio
from PIL import Image

from backend.core import photos
from backend.core.errors import ApiError, Unavailable
from backend.core.settings import Settings

_STATUS = {
    "unsupported_photo": 415,
    "photo_too_large": 413,
    "image_too_large": 413,
    "broken_photo": 422,
}
BUSY_RETRY_AFTER_S = 5  # a decode takes a second or two
# Pillow gives a large picture its memory in blocks, 16 MB by default. glibc raises its mmap
# threshold to a block's size once one is freed, so later blocks come from per-thread heaps
# that keep the memory after the decode: four 49 MP pictures decoded two at a time peaked at
# 790 MB. Blocks above glibc's 32 MB ceiling are always mapped and handed back: 536 MB.
Image.core.set_block_size(64 * 2**20)
# The turns of each event loop (one per process in production), by their number: an asyncio
# semaphore belongs to the loop it was first used on.
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


async def prepare(upload: bytes, settings: Settings) -> photos.Prepared:
    """The photo and thumbnail to store of ``upload``; :class:`ApiError` when it is refused
    (415, 413, 422) or when no decode became free in time (503 ``busy``)."""
    limit = settings.max_image_pixels
    # Pillow checks again in Image.open, with its own limit: the same one, so its warning or
    # error never fires for a picture this limit allows, nor lets through one it refuses.
    Image.MAX_IMAGE_PIXELS = limit
    try:
        # The header alone, outside the turns: a refusal never waits behind real decodes.
        await anyio.to_thread.run_sync(photos.check, upload, limit)
        async with _turn(settings):
            # Not abandoned if the request is cancelled: the turn is held until the thread
            # has finished with the memory.
            return await anyio.to_thread.run_sync(photos.prepare, upload, limit)
    except photos.PhotoError as exc:
        raise ApiError(_STATUS[exc.code], exc.code, exc.reason) from None


@contextlib.asynccontextmanager
async def _turn(settings: Settings) -> AsyncIterator[None]:
    count = max(1, settings.image_decodes)
    turns = _turns.setdefault(asyncio.get_running_loop(), {})
    semaphore = turns.setdefault(count, asyncio.Semaphore(count))
    try:
        async with asyncio.timeout(settings.image_wait_s):
            await semaphore.acquire()
    except TimeoutError:
        raise Unavailable(
            "busy",
            f"the server is processing {count} other photos; send this one again shortly",
            headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
        ) from None
    try:
        yield
    finally:
        semaphore.release()
