"""Grids (网格): the leaves of the area tree, their posts, and the point → grid router."""
