"""Pure geospatial code for Wangge: no web, no database.

Everything here takes and returns plain data (numpy arrays, shapely geometries,
GeoDataFrames, dicts), so it can be used from a notebook as well as from the backend.
"""
