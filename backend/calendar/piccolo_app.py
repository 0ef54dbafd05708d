import os

from piccolo.conf.apps import AppConfig

from backend.calendar.tables import CalendarOverride, WorkingHours

APP_CONFIG = AppConfig(
    app_name="calendar",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[CalendarOverride, WorkingHours],
    migration_dependencies=[],
)
