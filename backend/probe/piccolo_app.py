import os

from piccolo.conf.apps import AppConfig

from backend.probe.tables import HealthProbe

APP_CONFIG = AppConfig(
    app_name="probe",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[HealthProbe],
    migration_dependencies=[],
)
