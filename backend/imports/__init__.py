"""Importing a city's real layers (areas, grids, buildings, service points) and exporting them.

A file is read and normalised by ``geo.layers``, checked here against the layer rules and the
database, compared with what is stored (added, changed, removed by code), and written in one
transaction, or not at all.
"""
