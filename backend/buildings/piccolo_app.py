import os

from piccolo.conf.apps import AppConfig

from backend.buildings.tables import Building

APP_CONFIG = AppConfig(
    app_name="buildings",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Building],
    migration_dependencies=["backend.grids.piccolo_app"],
)
