"""LayerError, the one exception of `geo.layers`, raised at every step of reading a layer.

It lives apart from `geo.layers` so that the modules reading sources, CSV and coordinate
systems can raise it without importing the module that imports them. Its `code` is what
the import UI and API key on, so each failure keeps a code of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class LayerError(Exception):
    """A file that cannot be read as the layer asked for; `code` says why, for the UI.

    >>> error = LayerError("layer_required", "choose a layer", layers=["a", "b"])
    >>> error.code, error.details
    ('layer_required', {'layers': ['a', 'b']})
    """

    # Callers import it from geo.layers, so tracebacks name it there as before it moved
    # here; its doctest is therefore collected from geo.layers too.
    __module__ = "geo.layers"

    def __init__(self, code: str, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.details = details

    def __repr__(self) -> str:
        return f"LayerError({self.code!r}, {self.reason!r}, **{self.details!r})"


def unreadable(path: Path, why: object) -> LayerError:
    """The error for a file that is missing or that GDAL, zipfile or pandas cannot parse."""
    return LayerError("unreadable_file", f"{path.name} cannot be read: {why}", file=path.name)
