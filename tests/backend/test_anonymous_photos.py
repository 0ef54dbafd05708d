"""Photos of anonymous requests: the tracking code's holder adds theirs and sees the staff's
after-photos, each served under the code and to nobody without it."""

from __future__ import annotations

import io
import uuid

import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.app import create_app
from backend.cases.anonymous_photos import MAX_REPORTER_PHOTOS
from tests.backend.case_steps import Driver, demo_spot, report_body, sign_in

URL = "/api/anonymous/cases"


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


@pytest.fixture
async def driver(api) -> Driver:
    roles = ("grid_leader", "grid_worker")
    return Driver(api, {role: await sign_in(api, role) for role in roles})


def jpeg(colour: str, size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


async def reported(api, demo_city) -> tuple[str, int]:
    body = report_body(demo_spot(demo_city))
    del body["kind"]
    r = await api.post(URL, json=body)
    assert r.status_code == 201, r.text
    return r.json()["tracking_code"], r.json()["case"]["id"]


async def add(api, code: str, content: bytes, client_id: str | None = None):
    form = {"client_id": client_id} if client_id else {}
    return await api.post(
        f"{URL}/{code}/photos", files={"file": ("p.jpg", content, "image/jpeg")}, data=form
    )


async def image(api, url: str, headers=None) -> Image.Image:
    r = await api.get(url, headers=headers)
    assert r.status_code == 200, r.text
    return Image.open(io.BytesIO(r.content))


async def test_the_holder_adds_a_photo_once_and_sees_the_after_photo(api, driver, demo_city):
    code, case_id = await reported(api, demo_city)
    client_id = str(uuid.uuid4())
    # Typed by hand, the code still files the photo under its one spelling.
    first = await add(api, code.lower().replace("-", ""), jpeg("red"), client_id)
    assert first.status_code == 201, first.text
    assert first.json()["url"].startswith(f"{URL}/{code}/photos/")
    again = await add(api, code, jpeg("red"), client_id)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    # Staff see it as a photo of the case; they handle it with an after-photo.
    await driver.drive(case_id, "handling")
    worker = driver.sessions["grid_worker"].headers
    events = (await api.get(f"/api/cases/{case_id}/events", headers=worker)).json()
    assert [e["type"] for e in events].count("case.photo") == 1
    after = await api.post(
        f"/api/cases/{case_id}/photos",
        files={"file": ("after.jpg", jpeg("blue", (600, 800)), "image/jpeg")},
        headers=worker,
    )
    assert after.status_code == 201, after.text
    r = await driver.act("grid_worker", case_id, "handle", result="已修复")
    assert r.status_code == 200, r.text

    listed = (await api.get(f"{URL}/{code}/photos")).json()
    assert [(p["by"], p["width"], p["height"]) for p in listed] == [
        ("reporter", 800, 600),
        ("staff", 600, 800),
    ]
    shown = await image(api, listed[1]["url"])
    assert shown.size == (600, 800) and shown.getpixel((300, 400))[2] > 200  # the blue one
    assert max((await image(api, listed[1]["thumbnail_url"])).size) == 320
    # Without the code nothing is served: the plain address needs a sign-in.
    file_id = listed[1]["url"].rsplit("/", 1)[-1]
    assert (await api.get(f"/api/photos/{file_id}")).status_code in (401, 404)


async def test_another_code_opens_none_of_its_photos(api, demo_city):
    code, _ = await reported(api, demo_city)
    other, _ = await reported(api, demo_city)
    stored = (await add(api, code, jpeg("green"))).json()
    file_id = stored["url"].rsplit("/", 1)[-1]
    for url in (
        f"{URL}/{other}/photos/{file_id}",
        f"{URL}/{other}/photos/{file_id}/thumbnail",
        f"{URL}/ABCDE-FGHJK/photos/{file_id}",
        f"{URL}/ABCDE-FGHJK/photos",
    ):
        r = await api.get(url)
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), url
    assert (await api.get(f"{URL}/{other}/photos")).json() == []
    refused = await add(api, "ABCDE-FGHJK", jpeg("green"))
    assert refused.status_code == 404
    # A client id is one photo's, on one case: the other code cannot take it over.
    client_id = str(uuid.uuid4())
    assert (await add(api, code, jpeg("green"), client_id)).status_code == 201
    reused = await add(api, other, jpeg("green"), client_id)
    assert (reused.status_code, reused.json()["code"]) == (409, "client_id_taken")


async def test_photos_stop_at_the_limit_and_when_the_case_is_over(api, demo_city):
    code, _ = await reported(api, demo_city)
    for _ in range(MAX_REPORTER_PHOTOS):
        assert (await add(api, code, jpeg("white", (64, 64)))).status_code == 201
    over = await add(api, code, jpeg("white", (64, 64)))
    assert (over.status_code, over.json()["code"]) == (409, "too_many_photos")

    code, _ = await reported(api, demo_city)
    client_id = str(uuid.uuid4())
    assert (await add(api, code, jpeg("white", (64, 64)), client_id)).status_code == 201
    tracked = (await api.get(f"{URL}/{code}")).json()
    r = await api.post(
        f"{URL}/{code}/transitions", json={"action": "withdraw", "version": tracked["version"]}
    )
    assert r.status_code == 200, r.text
    late = await add(api, code, jpeg("white", (64, 64)))
    assert (late.status_code, late.json()["code"]) == (409, "case_over")
    # A retry of a photo sent before is still answered (its first answer was lost).
    assert (await add(api, code, jpeg("white", (64, 64)), client_id)).status_code == 200
