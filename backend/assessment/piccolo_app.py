import os

from piccolo.conf.apps import AppConfig

from backend.assessment.tables import AssessmentPublication, AssessmentWeight

APP_CONFIG = AppConfig(
    app_name="assessment",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[AssessmentWeight, AssessmentPublication],
    migration_dependencies=["backend.events.piccolo_app", "backend.cases.piccolo_app"],
)
