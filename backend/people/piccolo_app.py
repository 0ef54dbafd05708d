import os

from piccolo.conf.apps import AppConfig

from backend.people.tables import Person, RevokedToken

APP_CONFIG = AppConfig(
    app_name="people",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Person, RevokedToken],
    migration_dependencies=["backend.areas.piccolo_app"],
)
