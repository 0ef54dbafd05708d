from backend.areas.tables import Area
from backend.core.geojson import Collection

AREAS = Collection(
    name="areas",
    title="行政区划 Areas",
    description="City, districts, streets and towns, communities and villages, with boundaries.",
    table=Area,
    id_column=Area.code,
    properties=(Area.code, Area.name, Area.level, Area.parent.code.as_alias("parent_code")),
    geometry="footprint",
    filters={"level": Area.level, "parent_code": Area.parent.code},
)
