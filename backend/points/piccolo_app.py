import os

from piccolo.conf.apps import AppConfig

from backend.points.tables import ServicePoint

APP_CONFIG = AppConfig(
    app_name="points",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[ServicePoint],
    migration_dependencies=["backend.areas.piccolo_app", "backend.grids.piccolo_app"],
)
