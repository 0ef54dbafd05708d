import os

from piccolo.conf.apps import AppConfig

from backend.areas.tables import Area

APP_CONFIG = AppConfig(
    app_name="areas",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Area],
    migration_dependencies=[],
)
