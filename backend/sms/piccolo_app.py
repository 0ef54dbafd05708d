import os

from piccolo.conf.apps import AppConfig

from backend.sms.tables import SmsCode, SmsMessage

APP_CONFIG = AppConfig(
    app_name="sms",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[SmsMessage, SmsCode],
    migration_dependencies=[],
)
