"""The batching of positions (backend/live/batch.py), pure: which workers each subscription's
frame holds, that subscriptions alike share one frame, and that a pass does work by buckets."""

from __future__ import annotations

import json

import pytest

from backend.live import batch as batch_module
from backend.live.batch import Pass, newer, workers_of
from backend.live.messages import BadMessage, read
from backend.live.schemas import Moved

CITY, DISTRICT, OTHER_DISTRICT = "1503", "150302", "150303"
GRID_A, GRID_B = "15030200100101", "15030200200101"  # two streets of one district
GRID_C = "15030300100101"  # another district


def fix(person: int, grid: str, lon: float, lat: float, at: str = "10:00:00") -> Moved:
    return Moved(person, f"worker {person}", grid, lon, lat, 5.0, f"2026-12-07T{at}+00:00")


MOVED = [
    fix(1, GRID_A, 106.80, 39.60),
    fix(2, GRID_A, 106.81, 39.61),
    fix(3, GRID_B, 106.90, 39.70),
    fix(4, GRID_C, 106.85, 39.50),
]
LENGTHS = (4, 6, 9, 14)


def people(frame) -> list[int]:
    return sorted(w["person"] for w in workers_of(frame))


def test_each_scope_gets_only_its_workers_in_one_frame():
    batch = Pass(MOVED, LENGTHS)
    assert people(batch.frame((CITY,), None)) == [1, 2, 3, 4]
    assert people(batch.frame((DISTRICT,), None)) == [1, 2, 3]
    assert people(batch.frame((GRID_A[:9],), None)) == [1, 2]
    assert people(batch.frame((GRID_B,), None)) == [3]
    assert people(batch.frame((GRID_B, OTHER_DISTRICT), None)) == [3, 4]
    assert batch.frame(("150304",), None) is None  # nobody moved there: no frame at all


def test_the_frame_lists_each_worker_as_the_protocol_says():
    frame = Pass(MOVED[:1], LENGTHS).frame((CITY,), None)
    assert frame is not None and frame["type"] == "websocket.send"
    assert json.loads(frame["text"]) == {
        "type": "positions",
        "workers": [
            {
                "person": 1,
                "name": "worker 1",
                "grid": GRID_A,
                "lon": 106.80,
                "lat": 39.60,
                "accuracy": 5.0,
                "at": "2026-12-07T10:00:00+00:00",
            }
        ],
    }


def test_a_viewport_keeps_the_workers_inside_it_edges_included():
    batch = Pass(MOVED, LENGTHS)
    # Whole buckets in, out, and one (GRID_A) cut by the edge: worker 1 is on it.
    assert people(batch.frame((CITY,), (106.795, 39.55, 106.805, 39.65))) == [1]
    assert people(batch.frame((CITY,), (106.80, 39.60, 106.95, 39.75))) == [1, 2, 3]
    assert people(batch.frame((CITY,), (106.84, 39.45, 106.86, 39.55))) == [4]
    assert batch.frame((CITY,), (100.0, 30.0, 101.0, 31.0)) is None
    # The viewport narrows the scope, never widens it.
    assert people(batch.frame((GRID_B,), (106.0, 39.0, 107.0, 40.0))) == [3]


def test_subscriptions_alike_share_one_frame_and_buckets_are_encoded_once(monkeypatch):
    encoded: list[int] = []
    real = batch_module._encode

    def counting(members):
        encoded.append(len(members))
        return real(members)

    monkeypatch.setattr(batch_module, "_encode", counting)
    many = [fix(i, GRID_A if i % 2 else GRID_B, 106.8, 39.6) for i in range(1000)]
    batch = Pass(many, LENGTHS)
    assert sorted(encoded) == [500, 500]  # one encoding per bucket, not per worker
    frames = [batch.frame((CITY,), None) for _ in range(50)]
    assert all(f is frames[0] for f in frames)  # fifty screens, one frame object
    assert len(workers_of(frames[0])) == 1000
    assert batch.frame((DISTRICT,), None) is not frames[0]
    assert sorted(encoded) == [500, 500]  # whole buckets are reused, never encoded again


def test_a_late_fix_from_another_process_does_not_replace_a_newer_one():
    old, new = fix(1, GRID_A, 106.8, 39.6, "10:00:00"), fix(1, GRID_A, 106.9, 39.6, "10:00:05")
    assert newer(None, old) and newer(old, new) and not newer(new, old)


@pytest.mark.parametrize(
    "bbox",
    [[106.9, 39.5, 106.8, 39.7], [106.8, 39.7, 106.9, 39.5], [1, 2, 3], [0, 0, 200, 1], "a,b,c,d"],
)
def test_a_bad_viewport_is_a_bad_message(bbox):
    with pytest.raises(BadMessage):
        read(json.dumps({"type": "subscribe", "bbox": bbox}))
    with pytest.raises(BadMessage):
        read(json.dumps({"type": "viewport", "bbox": bbox}))


def test_a_viewport_message_may_clear_the_viewport():
    assert read('{"type": "viewport", "bbox": null}') == {"type": "viewport", "bbox": None}
    assert read('{"type": "viewport", "bbox": [1, 2, 3, 4]}')["bbox"] == (1.0, 2.0, 3.0, 4.0)
