"""Image bombs: a picture is refused by the pixel count its header declares before anything
is decoded, a JPEG is decoded no larger than its 1600 px output needs, and a process decodes
only so many pictures at once. Case and task photos share all of it. Both databases.

The memory of a real server under four bombs at once: tests/live/test_image_memory.py."""

from __future__ import annotations

import asyncio
import struct
import threading
import uuid
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient
from PIL import ExifTags, Image, ImageFile

from backend.app import create_app
from backend.core import photo_gate, photos
from backend.core.errors import ApiError
from backend.core.settings import Settings
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.backend import test_photos
from tests.backend.test_photos import encoded, fetched, phone_jpeg, sign_in, upload

# Pillow warns of every bomb between its limit and twice that; refused here all the same.
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")

# The client, the resident and the case to add photos to, as the photo tests have them.
api, resident, case_id = test_photos.api, test_photos.resident, test_photos.case_id

BOMB = (10_000, 8_900)  # 89 MP: under Pillow's own default limit, 267 MB once decoded


@pytest.fixture(scope="module")
def bomb_png() -> bytes:
    # One colour compresses to a few hundred KB, whatever the pixel count.
    return encoded(Image.new("RGB", BOMB, "white"), "PNG", compress_level=9)


def camera_jpeg(size: tuple[int, int], orientation: int) -> bytes:
    """A large, smooth JPEG (a phone's 24 MP photo is a few MB) with an orientation tag."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    picture = Image.radial_gradient("L").resize(size).convert("RGB")
    return encoded(picture, "JPEG", quality=90, exif=exif.tobytes())


@pytest.fixture
def decodes(monkeypatch) -> list[tuple[str, tuple[int, int]]]:
    """Every picture Pillow decodes in this test, with the size it is decoded at."""
    seen: list[tuple[str, tuple[int, int]]] = []
    load = ImageFile.ImageFile.load

    def recorded(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        if self.tile:  # a real decode, not a second call on a loaded picture
            seen.append((self.format or "", self.size))
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recorded)
    return seen


def photo_files(settings: Settings) -> list[str]:
    folder = settings.data_dir / "photos"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


async def test_a_bomb_is_refused_with_413_before_it_is_decoded(
    api, scratch_database, resident, case_id, bomb_png, decodes
):
    assert len(bomb_png) < 500_000  # the attack: a small upload
    r = await upload(api, case_id, resident, bomb_png, name="bomb.png", content_type="image/png")
    assert (r.status_code, r.json()["code"]) == (413, "image_too_large"), r.text
    assert r.json()["status"] == 413
    assert "50,000,000 pixels" in r.json()["reason"]
    assert "10000 × 8900" in r.json()["reason"]
    assert decodes == []  # nothing was decoded: the header said enough
    assert photo_files(scratch_database.settings) == []


async def test_a_task_photo_bomb_is_refused_the_same_way(api, scratch_database, bomb_png, decodes):
    staff = await sign_in(api, DEMO_ACCOUNTS["community_staff"])
    sent = await api.post(
        "/api/tasks",
        json={
            "client_id": str(uuid.uuid4()),
            "area_code": DEMO_GRID_CODE[:12],
            "target": "grid",
            "title": "消防通道检查",
        },
        headers=staff,
    )
    assert sent.status_code == 201, sent.text
    worker = await sign_in(api, DEMO_ACCOUNTS["grid_worker"])
    items = await api.get(
        "/api/task-items", params={"broadcast": sent.json()["id"]}, headers=worker
    )
    item = items.json()[0]["id"]
    r = await api.post(
        f"/api/task-items/{item}/photos",
        files={"file": ("bomb.png", bomb_png, "image/png")},
        headers=worker,
    )
    assert (r.status_code, r.json()["code"]) == (413, "image_too_large"), r.text
    assert decodes == []
    assert photo_files(scratch_database.settings) == []


async def test_the_pixel_limit_is_a_setting(scratch_database, resident, case_id, api, monkeypatch):
    # The app sets Pillow's own (process-wide) limit to its setting: restored after this test.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    # The same server with a lower limit refuses what the default lets through.
    content = phone_jpeg((1200, 900))
    assert (await upload(api, case_id, resident, content)).status_code == 201
    low = replace(scratch_database.settings, max_image_pixels=1_000_000)
    async with AsyncTestClient(app=create_app(low)) as strict:
        r = await upload(strict, case_id, resident, content)
    assert (r.status_code, r.json()["code"]) == (413, "image_too_large"), r.text
    assert "1,000,000 pixels" in r.json()["reason"]


async def test_a_large_phone_jpeg_is_decoded_reduced_and_shrunk_to_1600_px(
    api, resident, case_id, decodes
):
    content = camera_jpeg((6000, 4000), orientation=6)  # 24 MP, held sideways
    r = await upload(api, case_id, resident, content)
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == (1067, 1600)  # upright
    # Decoded at half size, the smallest scale that still gives 1600 px: 24 MB, not 72 MB.
    assert decodes[0] == ("JPEG", (3000, 2000))
    stored = await fetched(api, r.json()["url"], resident)
    assert (stored.format, stored.size) == ("JPEG", (1067, 1600))
    thumb = await fetched(api, r.json()["thumbnail_url"], resident)
    assert thumb.size == (213, 320)


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_pillow_s_bomb_warning_made_an_error_is_still_image_too_large(monkeypatch):
    # Between its limit and twice that, Pillow's Image.open warns; where warnings are errors
    # the warning is raised before any check of ours runs. Still a 413, never a 500.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000)
    with pytest.raises(photos.PhotoError) as refused:
        photos.check(encoded(Image.new("L", (40, 40)), "PNG"))
    assert refused.value.code == "image_too_large"


async def test_decodes_beyond_the_setting_wait_then_get_503_busy(monkeypatch):
    settings = Settings(image_decodes=1, image_wait_s=0.3)
    started, release = threading.Event(), threading.Event()
    real = photos.prepare

    def slow(data: bytes, max_pixels: int | None = None) -> photos.Prepared:
        started.set()
        release.wait(10)
        return real(data, max_pixels)

    monkeypatch.setattr(photos, "prepare", slow)
    content = phone_jpeg((400, 300))
    first = asyncio.create_task(photo_gate.prepare(content, settings))
    await asyncio.to_thread(started.wait, 10)
    with pytest.raises(ApiError) as busy:
        await photo_gate.prepare(content, settings)
    assert (busy.value.status, busy.value.code) == (503, "busy")
    assert int(busy.value.headers["Retry-After"]) > 0
    release.set()
    assert (await first).info.width == 400
    # The turn was given back: the next one goes through.
    assert (await photo_gate.prepare(content, settings)).info.width == 400


async def test_two_decodes_run_side_by_side_by_default(monkeypatch):
    settings = Settings(image_wait_s=0.3)
    assert settings.image_decodes == 2
    both = threading.Barrier(2, timeout=10)
    real = photos.prepare

    def meeting(data: bytes, max_pixels: int | None = None) -> photos.Prepared:
        both.wait()  # breaks (and fails the test) unless the two run at the same time
        return real(data, max_pixels)

    monkeypatch.setattr(photos, "prepare", meeting)
    content = phone_jpeg((400, 300))
    done = await asyncio.gather(*(photo_gate.prepare(content, settings) for _ in range(2)))
    assert [p.info.width for p in done] == [400, 400]


def test_the_limits_are_read_from_the_environment():
    env = {"WANGGE_MAX_IMAGE_PIXELS": "1000", "WANGGE_IMAGE_DECODES": "3"}
    settings = Settings.from_env(env | {"WANGGE_IMAGE_WAIT_S": "2.5"})
    assert (settings.max_image_pixels, settings.image_decodes, settings.image_wait_s) == (
        1000,
        3,
        2.5,
    )
    defaults = Settings.from_env({})
    assert (defaults.max_image_pixels, defaults.image_decodes) == (50_000_000, 2)


def test_the_header_check_reads_no_pixels(bomb_png, decodes):
    photos.check(encoded(Image.new("RGB", (64, 48)), "PNG"))
    with pytest.raises(photos.PhotoError):
        photos.check(bomb_png, max_pixels=50_000_000)
    assert decodes == []
    assert struct.unpack(">II", bomb_png[16:24]) == BOMB  # what its PNG header declares
