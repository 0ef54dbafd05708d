async def test_tree_nests_city_districts_streets_communities_grids(client, demo_city):
    roots = (await client.get("/api/areas/tree")).json()
    assert len(roots) == 1 and roots[0]["code"] == "150300"
    city = roots[0]
    assert {d["name"] for d in city["children"]} == {"海勃湾区", "乌达区", "海南区"}

    def count(node, level):
        return (node["level"] == level) + sum(count(c, level) for c in node["children"])

    assert count(city, "grid") == len(demo_city.grids)
    assert count(city, "community") == (demo_city.areas["level"] == "community").sum()


async def test_tree_depth_and_root(client):
    roots = (await client.get("/api/areas/tree", params={"root": "150302", "depth": 1})).json()
    assert roots[0]["name"] == "海勃湾区"
    assert roots[0]["children"] and all(c["children"] == [] for c in roots[0]["children"])
    r = await client.get("/api/areas/tree", params={"root": "999999"})
    assert r.status_code == 404


async def test_community_detail_lists_its_grids_and_totals(client, demo_city):
    community = demo_city.areas[demo_city.areas["level"] == "community"].iloc[0]
    r = await client.get(f"/api/areas/{community['code']}")
    body = r.json()
    grids = demo_city.grids[demo_city.grids["parent_code"] == community["code"]]
    assert sorted(c["code"] for c in body["children"]) == sorted(grids["code"])
    assert body["grids"] == len(grids)
    b = demo_city.buildings[demo_city.buildings["grid_code"].isin(grids["code"])]
    assert body["buildings"] == len(b)
    assert body["households"] == int(b["households"].sum())
    assert [a["level"] for a in body["chain"]] == ["city", "district", "street"]
