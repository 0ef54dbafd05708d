import os

from piccolo.conf.apps import AppConfig

from backend.notify.tables import Notice, NotifyCursor, NotifyPreference, Outbox, PushSubscription

APP_CONFIG = AppConfig(
    app_name="notify",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[PushSubscription, NotifyPreference, Notice, Outbox, NotifyCursor],
    migration_dependencies=["backend.people.piccolo_app"],
)
