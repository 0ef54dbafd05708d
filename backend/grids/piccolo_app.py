import os

from piccolo.conf.apps import AppConfig

from backend.grids.tables import Grid, GridPost

APP_CONFIG = AppConfig(
    app_name="grids",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Grid, GridPost],
    migration_dependencies=["backend.areas.piccolo_app", "backend.people.piccolo_app"],
)
