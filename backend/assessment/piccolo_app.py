import os

from piccolo.conf.apps import AppConfig

from backend.assessment.tables import AssessmentWeight

APP_CONFIG = AppConfig(
    app_name="assessment",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[AssessmentWeight],
    migration_dependencies=["backend.events.piccolo_app", "backend.cases.piccolo_app"],
)
