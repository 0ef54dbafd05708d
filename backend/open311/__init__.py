"""Open311 GeoReport v2, read-only: the city's cases for other city systems (mapping.py is the
pure translation, routes.py the endpoints)."""
