import os

from piccolo.conf.apps import AppConfig

from backend.positions.tables import DutyPeriod, TrackPoint

APP_CONFIG = AppConfig(
    app_name="positions",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[TrackPoint, DutyPeriod],
    migration_dependencies=["backend.people.piccolo_app"],
)
