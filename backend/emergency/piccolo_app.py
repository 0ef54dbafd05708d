import os

from piccolo.conf.apps import AppConfig

from backend.emergency.tables import EmergencyMode

APP_CONFIG = AppConfig(
    app_name="emergency",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[EmergencyMode],
    migration_dependencies=[],
)
