import msgspec


class NearbyPoint(msgspec.Struct):
    code: str
    name: str
    kind: str
    kind_label: str
    level: str | None
    address: str
    hours: str
    phone: str
    lon: float
    lat: float
    distance_m: float


class Nearby(msgspec.Struct):
    lon: float  # the query point in WGS 84
    lat: float
    within_m: float
    items: list[NearbyPoint]
