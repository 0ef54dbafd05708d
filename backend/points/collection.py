from backend.core.geojson import Collection
from backend.points.tables import ServicePoint

SERVICE_POINTS = Collection(
    name="service-points",
    title="服务点位 Service points",
    description="党群服务中心 at four levels, 司机之家, 暖心驿站 and 红色物业.",
    table=ServicePoint,
    id_column=ServicePoint.code,
    properties=(
        ServicePoint.code,
        ServicePoint.name,
        ServicePoint.kind,
        ServicePoint.level,
        ServicePoint.address,
        ServicePoint.hours,
        ServicePoint.phone,
        ServicePoint.area.code.as_alias("area_code"),
        ServicePoint.grid.code.as_alias("grid_code"),
    ),
    geometry="point",
    filters={"kind": ServicePoint.kind, "level": ServicePoint.level},
)
