from backend.core.phones import masked_phone
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

REQUIRED = ["leader", "police", "fulltime", "parttime"]


def expected_missing(demo_city):
    held = demo_city.posts.groupby("grid_code")["post"].apply(set)
    return {
        code: [p for p in REQUIRED if p not in held.get(code, set())]
        for code in demo_city.grids["code"]
    }


async def test_grid_page_shows_chain_posts_and_staffing(client, demo_city):
    r = await client.get(f"/api/grids/{DEMO_GRID_CODE}")
    assert r.status_code == 200
    page = r.json()
    assert [a["level"] for a in page["chain"]] == ["city", "district", "street", "community"]
    assert page["chain"][-1]["code"] == DEMO_GRID_CODE[:12]
    # Not signed in: phones masked (tests/backend/test_staff_phones.py).
    holders = {p["person"]["phone"]: p["post"] for p in page["posts"]}
    assert holders[masked_phone(DEMO_ACCOUNTS["grid_leader"])] == "leader"
    assert holders[masked_phone(DEMO_ACCOUNTS["grid_police"])] == "police"
    assert holders[masked_phone(DEMO_ACCOUNTS["grid_worker"])] == "fulltime"
    assert page["staffing"] == {"complete": True, "missing": [], "missing_labels": []}
    b = demo_city.buildings[demo_city.buildings["grid_code"] == DEMO_GRID_CODE]
    assert page["buildings"] == len(b)
    assert page["households"] == int(b["households"].sum())


async def test_incomplete_grids_are_flagged_with_what_is_missing(client, demo_city):
    expected = {c: m for c, m in expected_missing(demo_city).items() if m}
    assert expected, "the demo city leaves a few posts empty on purpose"
    listed = (await client.get("/api/grids/staffing", params={"complete": False})).json()
    assert {g["code"]: g["staffing"]["missing"] for g in listed} == expected
    code, missing = next(iter(expected.items()))
    page = (await client.get(f"/api/grids/{code}")).json()
    assert page["staffing"]["complete"] is False
    assert page["staffing"]["missing"] == missing


async def test_unknown_grid_is_a_404(client):
    r = await client.get("/api/grids/00000000000000")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
