"""A table of its own for the health probe's write (backend/health.py)."""
