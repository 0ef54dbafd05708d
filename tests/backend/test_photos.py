"""Case photos: only real JPEG/PNG/WebP within the limits, stored upright without location
metadata, with a thumbnail, and shown only to people who may see the case."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import shapely
from litestar.testing import AsyncTestClient
from PIL import ExifTags, Image

from backend.app import create_app
from backend.cases.tables import CasePhoto
from backend.core import photos
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

MB = 1024 * 1024


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


@pytest.fixture
def photo_dir(scratch_database) -> Path:
    return scratch_database.settings.data_dir / "photos"


async def sign_in(client, phone: str) -> dict[str, str]:
    r = await client.post("/api/auth/sign-in", json={"phone": phone, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
async def resident(api) -> dict[str, str]:
    return await sign_in(api, DEMO_ACCOUNTS["resident"])


@pytest.fixture
async def case_id(api, resident, demo_city) -> int:
    grid = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
    spot = shapely.point_on_surface(grid)
    body = {
        "client_id": str(uuid.uuid4()),
        "kind": "request",
        "category": "1501",
        "description": "3号楼前路灯不亮",
        "lon": spot.x,
        "lat": spot.y,
    }
    r = await api.post("/api/cases", json=body, headers=resident)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    # Noise, not a flat colour: compressed data long enough to be cut in the middle.
    return Image.effect_noise(size, 64).convert(mode)


def encoded(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def phone_jpeg(size: tuple[int, int], orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera, an orientation and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 27.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 50.0)
    return encoded(picture(size), "JPEG", exif=exif.tobytes())


async def upload(
    api, case: int, headers, content: bytes, name="photo.jpg", content_type="image/jpeg", **form
):
    return await api.post(
        f"/api/cases/{case}/photos",
        files={"file": (name, content, content_type)},
        data=form,
        headers=headers,
    )


async def fetched(api, url: str, headers) -> Image.Image:
    r = await api.get(url, headers=headers)
    assert r.status_code == 200, r.text
    assert "immutable" in r.headers["cache-control"]
    img = Image.open(io.BytesIO(r.content))
    assert r.headers["content-type"] == Image.MIME[img.format]
    return img


def assert_no_metadata(img: Image.Image) -> None:
    assert dict(img.getexif()) == {}
    assert not {"exif", "xmp", "icc_profile", "comment"} & set(img.info)


async def photo_rows(db) -> int:
    # Counted with the test's own engine: the app's PostgreSQL pool lives on the client's loop.
    bound, CasePhoto._meta.db = CasePhoto._meta.db, db.engine
    try:
        return await CasePhoto.count()
    finally:
        CasePhoto._meta.db = bound


async def photo_events(api, case: int, headers) -> list[dict]:
    timeline = (await api.get(f"/api/cases/{case}/events", headers=headers)).json()
    return [e for e in timeline if e["type"] == "case.photo"]


async def test_a_phone_photo_is_stored_without_its_location_and_capped_in_size(
    api, resident, case_id, photo_dir
):
    assert ExifTags.IFD.GPSInfo in Image.open(io.BytesIO(phone_jpeg((64, 32)))).getexif()
    r = await upload(api, case_id, resident, phone_jpeg((2400, 1200)))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (1600, 800)
    stored = await fetched(api, body["url"], resident)
    assert (stored.format, stored.size) == ("JPEG", (1600, 800))
    assert_no_metadata(stored)
    thumb = await fetched(api, body["thumbnail_url"], resident)
    assert (thumb.format, thumb.size) == ("JPEG", (320, 160))
    assert_no_metadata(thumb)
    # Named by random ids, never by the client's file name.
    names = sorted(p.name for p in photo_dir.iterdir())
    assert len(names) == 2 and all(len(n) == 32 and int(n, 16) >= 0 for n in names)
    assert len(await photo_events(api, case_id, resident)) == 1


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "RGBA"), ("WEBP", "RGB")])
async def test_png_and_webp_are_kept_in_their_format_whatever_the_name_says(
    api, resident, case_id, fmt, mode
):
    content = encoded(picture((600, 400), mode), fmt)
    r = await upload(api, case_id, resident, content, name="photo.jpg", content_type="image/jpeg")
    assert r.status_code == 201, r.text
    stored = await fetched(api, r.json()["url"], resident)
    assert (stored.format, stored.size, stored.mode) == (fmt, (600, 400), mode)
    thumb = await fetched(api, r.json()["thumbnail_url"], resident)
    assert (thumb.format, thumb.size) == ("JPEG", (320, 213))


async def test_the_orientation_tag_is_applied(api, resident, case_id):
    r = await upload(api, case_id, resident, phone_jpeg((100, 50), orientation=6))
    assert (r.json()["width"], r.json()["height"]) == (50, 100)
    stored = await fetched(api, r.json()["url"], resident)
    assert stored.size == (50, 100)
    assert_no_metadata(stored)


@pytest.mark.parametrize(
    ("name", "content", "status", "code"),
    [
        ("photo.gif", encoded(picture((40, 30)), "GIF"), 415, "unsupported_photo"),
        ("photo.jpg", "路灯坏了，请尽快修理".encode() * 50, 415, "unsupported_photo"),
        ("photo.jpg", phone_jpeg((400, 300))[:6000], 422, "broken_photo"),
        ("photo.jpg", phone_jpeg((40, 30)) + bytes(10 * MB), 413, "photo_too_large"),
        ("photo.jpg", bytes(13 * MB), 413, "body_too_large"),
    ],
    ids=["gif", "text", "truncated", "over-10-mb", "over-body-limit"],
)
async def test_refused_uploads_store_nothing(
    api, scratch_database, resident, case_id, photo_dir, name, content, status, code
):
    r = await upload(api, case_id, resident, content, name=name)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert not photo_dir.exists() or not any(photo_dir.iterdir())
    assert await photo_rows(scratch_database) == 0
    assert await photo_events(api, case_id, resident) == []


async def test_a_retry_with_the_same_client_id_stores_the_photo_once(
    api, resident, case_id, photo_dir
):
    content, client_id = phone_jpeg((300, 200)), str(uuid.uuid4())
    first = await upload(api, case_id, resident, content, client_id=client_id)
    again = await upload(api, case_id, resident, content, client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(list(photo_dir.iterdir())) == 2
    assert len(await photo_events(api, case_id, resident)) == 1


async def test_only_people_who_may_see_the_case_get_its_photos(api, resident, case_id, demo_city):
    r = await upload(api, case_id, resident, phone_jpeg((300, 200)))
    body = r.json()
    people = demo_city.people
    neighbour = people[
        (people.role == "resident") & (people.phone != DEMO_ACCOUNTS["resident"])
    ].phone.iloc[0]
    stranger = await sign_in(api, neighbour)
    again = await upload(api, case_id, stranger, phone_jpeg((300, 200)))
    assert (again.status_code, again.json()["code"]) == (404, "not_found")
    for url in (body["url"], body["thumbnail_url"]):
        refused = await api.get(url, headers=stranger)
        assert refused.status_code == 404
        assert refused.json()["details"]["what"] == "photo"  # not the case: its id is not said
        assert (await api.get(url)).status_code == 401
    worker = await sign_in(api, DEMO_ACCOUNTS["grid_worker"])
    assert (await fetched(api, body["url"], worker)).size == (300, 200)
    assert (await api.get("/api/photos/../secret.key", headers=resident)).status_code == 404


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [40, 100], ids=["over-limit", "over-twice-the-limit"])
def test_a_decompression_bomb_is_refused_before_it_is_decoded(monkeypatch, side):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(photos.PhotoError) as refused:
        photos.inspect(encoded(Image.new("L", (side, side)), "PNG"))
    assert refused.value.code == "image_too_large"
