import os

from piccolo.conf.apps import AppConfig

from backend.health.tables import HealthProbe

# Named "probe" when its first migration was made: databases know the app by that name.
APP_CONFIG = AppConfig(
    app_name="probe",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[HealthProbe],
    migration_dependencies=[],
)
