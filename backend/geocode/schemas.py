from __future__ import annotations

import msgspec


class FoundPlace(msgspec.Struct):
    kind: str  # city, district, street, community, grid, point (a service point), building
    code: str
    name: str
    address: str  # the areas above it, or its street address and house number
    lon: float  # WGS 84
    lat: float
