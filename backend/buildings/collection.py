from backend.buildings.tables import Building
from backend.core.geojson import Collection

BUILDINGS = Collection(
    name="buildings",
    title="楼栋 Buildings",
    description="Building footprints with address, floors, households and grid.",
    table=Building,
    id_column=Building.code,
    properties=(
        Building.code,
        Building.name,
        Building.address,
        Building.floors,
        Building.households,
        Building.grid.code.as_alias("grid_code"),
    ),
    geometry="footprint",
    filters={"grid_code": Building.grid.code},
)
