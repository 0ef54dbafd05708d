import os

from piccolo.conf.apps import AppConfig

from backend.tasks.tables import Broadcast, TaskItem, TaskPhoto

APP_CONFIG = AppConfig(
    app_name="tasks",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Broadcast, TaskItem, TaskPhoto],
    migration_dependencies=[],
)
