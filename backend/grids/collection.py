from backend.core.geojson import Collection
from backend.grids.tables import Grid

GRIDS = Collection(
    name="grids",
    title="网格 Grids",
    description="Grid boundaries, each in one community or village.",
    table=Grid,
    id_column=Grid.code,
    properties=(Grid.code, Grid.name, Grid.kind, Grid.community.code.as_alias("parent_code")),
    geometry="footprint",
    filters={"kind": Grid.kind, "parent_code": Grid.community.code},
)
