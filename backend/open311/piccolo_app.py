import os

from piccolo.conf.apps import AppConfig

from backend.open311.tables import Open311Key

APP_CONFIG = AppConfig(
    app_name="open311",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Open311Key],
    migration_dependencies=[],
)
