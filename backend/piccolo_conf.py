"""Piccolo's configuration module, for the ``piccolo`` command line (``piccolo migrations …``).

The app itself binds its engine through :func:`backend.core.db.use_engine`.
"""

from backend.core.db import make_engine, registry
from backend.core.settings import Settings

DB = make_engine(Settings.from_env().database_url)
APP_REGISTRY = registry()
