from typing import Annotated

import msgspec

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class SwitchOn(msgspec.Struct, forbid_unknown_fields=True):
    area_code: Code
    kind: Annotated[str, msgspec.Meta(max_length=16)]
    reason: str
    # Overrides the kind's default; within (0, 1].
    factor: float | None = None


class SwitchOff(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class KindOut(msgspec.Struct):
    kind: str
    label: str
    factor: float  # the default time-limit factor


class ModeOut(msgspec.Struct):
    id: int
    area_code: str
    area_name: str
    kind: str
    kind_label: str
    factor: float
    reason: str
    started_at: str
    started_by: int
    active: bool
    ended_at: str | None = None
    ended_by: int | None = None
    end_reason: str = ""
    # On a switch's answer: how many open cases in the area got a new due time.
    cases_retimed: int | None = None


class CurrentModes(msgspec.Struct):
    area: str | None
    # The factor new clocks get in ``area`` (1.0 in peacetime); 1.0 without an area.
    factor: float
    modes: list[ModeOut]


class ModeHistory(msgspec.Struct):
    items: list[ModeOut]
    numberMatched: int
