import msgspec


class AreaRef(msgspec.Struct):
    code: str
    name: str
    level: str


class TreeNode(msgspec.Struct):
    code: str
    name: str
    level: str  # city, district, street, community, or grid
    children: list["TreeNode"] = []
    kind: str | None = None  # grids only


class AreaDetail(msgspec.Struct):
    code: str
    name: str
    level: str
    chain: list[AreaRef]  # from the city down to the area's parent
    children: list[AreaRef]  # sub-areas, or the grids of a community
    grids: int
    buildings: int
    households: int
    bbox: tuple[float, float, float, float]
