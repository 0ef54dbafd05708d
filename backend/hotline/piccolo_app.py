import os

from piccolo.conf.apps import AppConfig

from backend.hotline.tables import HotlineCall

APP_CONFIG = AppConfig(
    app_name="hotline",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[HotlineCall],
    migration_dependencies=["backend.cases.piccolo_app", "backend.people.piccolo_app"],
)
