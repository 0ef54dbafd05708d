"""The map layers as OGC API – Features collections: ``/api/collections/{name}/items``."""
