"""Pure pieces of the backend, tested without a server or a database."""

import time

import pytest

from backend.areas.tree import build_tree, chain_of
from backend.auth.passwords import check_password, hash_password
from backend.auth.tokens import InvalidToken, TokenClaims, issue_token, read_token
from backend.core.coords import wgs84_point
from backend.core.errors import ApiError, Invalid
from backend.core.settings import Settings
from backend.core.spatial import parse_bbox
from backend.grids.staffing import missing_posts


def test_password_hash_checks_and_salts():
    h = hash_password("秘密 secret")
    assert check_password("秘密 secret", h)
    assert not check_password("secret", h)
    assert h != hash_password("秘密 secret")
    assert not check_password("x", "not-a-hash")


def test_token_round_trip_and_tamper():
    claims = TokenClaims(sub=7, exp=int(time.time()) + 60)
    token = issue_token(claims, "k")
    assert read_token(token, "k") == claims
    with pytest.raises(InvalidToken):
        read_token(token, "other-key")
    _, sig = token.split(".")
    forged = issue_token(TokenClaims(sub=1, exp=claims.exp), "x").split(".")[0]
    with pytest.raises(InvalidToken):
        read_token(f"{forged}.{sig}", "k")
    with pytest.raises(InvalidToken):
        read_token(token, "k", now=claims.exp + 1)
    with pytest.raises(InvalidToken):
        read_token("garbage", "k")


def test_missing_posts_follow_the_rule():
    assert missing_posts(["leader", "police", "fulltime", "parttime", "party_secretary"]) == []
    assert missing_posts(["party_secretary"]) == ["leader", "police", "fulltime", "parttime"]
    assert missing_posts(["leader", "police", "fulltime"]) == ["parttime"]


AREAS = [
    {"code": "150300", "name": "乌海市", "level": "city", "parent_code": None},
    {"code": "150302", "name": "海勃湾区", "level": "district", "parent_code": "150300"},
    {"code": "150302001", "name": "新华街道", "level": "street", "parent_code": "150302"},
    {"code": "150302001001", "name": "团结社区", "level": "community", "parent_code": "150302001"},
]
GRIDS = [
    {
        "code": "15030200100101",
        "name": "团结社区第一网格",
        "kind": "community",
        "parent_code": "150302001001",
    }
]


def test_tree_nests_and_cuts_at_depth():
    (city,) = build_tree(AREAS, GRIDS)
    assert city.children[0].children[0].children[0].children[0].level == "grid"
    (city,) = build_tree(AREAS, GRIDS, depth=1)
    assert city.children[0].children == []
    assert build_tree(AREAS, root="nope") == []


def test_chain_goes_from_the_top_down():
    by_code = {a["code"]: a for a in AREAS}
    assert [a.level for a in chain_of("150302001001", by_code)] == ["city", "district", "street"]


def test_wgs84_point_checks_ranges_and_converts():
    assert wgs84_point(106.8, 39.6) == (106.8, 39.6)
    x, y = wgs84_point(106.8, 39.6, "gcj02")
    assert (x, y) != (106.8, 39.6)
    for args in [(200, 0), (0, 91), (float("inf"), 0), (0, float("nan"))]:
        with pytest.raises(Invalid) as e:
            wgs84_point(*args)
        assert e.value.code == "invalid_coordinate"
    with pytest.raises(Invalid) as e:
        wgs84_point(0, 0, "wgs72")
    assert e.value.code == "unknown_crs"


def test_parse_bbox():
    assert parse_bbox("106.7,39.4,106.9,39.8") == (106.7, 39.4, 106.9, 39.8)
    for bad in ["1,2,3", "a,b,c,d", "3,0,1,1", "0,0,200,1"]:
        with pytest.raises(ApiError):
            parse_bbox(bad)


def test_settings_from_env(tmp_path):
    s = Settings.from_env({"WANGGE_DATA_DIR": str(tmp_path), "WANGGE_PORT": "9001"})
    assert s.database_url == f"sqlite:///{tmp_path / 'wangge.sqlite'}"
    assert s.port == 9001 and s.redis_url is None and s.is_sqlite
    s = Settings.from_env({"DATABASE_URL": "postgresql://u@h/db", "REDIS_URL": "redis://h"})
    assert not s.is_sqlite and s.redis_url == "redis://h"
    assert s.basemap_url is None
    tiles = "https://tiles.example/{z}/{x}/{y}.png"
    assert Settings.from_env({"WANGGE_BASEMAP_URL": tiles}).basemap_url == tiles


def test_secret_key_is_made_once_and_kept(tmp_path):
    a = Settings(data_dir=tmp_path).with_secret()
    b = Settings(data_dir=tmp_path).with_secret()
    assert a.secret_key == b.secret_key and len(a.secret_key) > 40
    assert Settings(data_dir=tmp_path, secret_key="g" * 32).with_secret().secret_key == "g" * 32
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path, secret_key="short").with_secret()
