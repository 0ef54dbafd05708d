from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from backend.core.geojson import Feature

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
Text = Annotated[str, msgspec.Meta(max_length=2000)]


class BroadcastIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID  # made by the sender; sending it again creates nothing new
    area_code: Code
    target: Literal["grid", "building"]
    title: Annotated[str, msgspec.Meta(max_length=128)]
    description: Text = ""
    due_at: datetime | None = None


class BroadcastOut(msgspec.Struct):
    id: int
    client_id: str
    area_code: str
    area_name: str
    target: str
    title: str
    description: str
    due_at: str | None
    created_by: int
    created_at: str
    items: int
    done: int
    open: bool  # some item is not done yet


class DoneIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID  # made by the phone; an offline retry changes nothing
    result: Text
    households: int | None = None  # households reached
    photo_id: int | None = None  # from POST /api/task-items/{id}/photos


class ItemOut(msgspec.Struct):
    id: int
    broadcast: int
    title: str
    grid_code: str
    building_id: int | None
    building_name: str | None
    address: str | None
    status: str
    result: str
    households: int | None
    photo_id: int | None
    photo_url: str | None
    done_by: int | None
    done_at: str | None
    due_at: str | None  # the broadcast's


class GridCompletion(msgspec.Struct):
    grid_code: str
    grid_name: str
    items: int
    done: int
    households: int  # reached, summed over done items


class BuildingStatus(msgspec.Struct):
    item: int
    building_id: int
    building_code: str | None  # None if the building was removed since
    name: str | None
    address: str | None
    grid_code: str
    households_registered: int | None  # the building's own count
    status: str
    households: int | None  # reached
    done_by: int | None
    done_at: str | None


class Completion(msgspec.Struct):
    broadcast: BroadcastOut
    # Over the part of the broadcast the asker sees (their area or their grids).
    items: int
    done: int
    households: int
    grids: list[GridCompletion]
    buildings: list[BuildingStatus]


class ItemFeatures(msgspec.Struct):
    """Building footprints (or grid shapes) with each item's status, for the live map."""

    features: list[Feature]
    type: str = "FeatureCollection"


class TaskPhotoOut(msgspec.Struct):
    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int
