"""The category picker's list: the seeded tree with each leaf's default post and limits."""

from __future__ import annotations

import json

from backend.cases.categories import SEED


async def test_categories_are_the_seeded_tree(client):
    r = await client.get("/api/categories")
    assert r.status_code == 200
    got = {c["code"]: c for c in r.json()}
    seeded = json.loads(SEED.read_text())["categories"]
    assert set(got) == {c["code"] for c in seeded}
    assert list(got) == sorted(got)
    for c in seeded:
        assert got[c["code"]]["name"] == c["name"]
        assert got[c["code"]]["parent"] == c["parent"]
        assert got[c["code"]]["limits_hours"] == c.get("limits", {})
    police = [c for c in got.values() if c["post"] == "police"]
    assert police, "security categories go to the grid's police officer by default"
