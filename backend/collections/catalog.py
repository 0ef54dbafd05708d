"""Every collection the API serves, declared by the feature that owns its table."""

from backend.areas.collection import AREAS
from backend.buildings.collection import BUILDINGS
from backend.cases.collection import CASES
from backend.core.geojson import Collection
from backend.grids.collection import GRIDS
from backend.points.collection import SERVICE_POINTS

COLLECTIONS: dict[str, Collection] = {
    c.name: c for c in (AREAS, GRIDS, BUILDINGS, SERVICE_POINTS, CASES)
}
