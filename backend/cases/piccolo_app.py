import os

from piccolo.conf.apps import AppConfig

from backend.cases.tables import Case, CasePhoto, Category, Department, DepartmentMember

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Category, Case, CasePhoto, Department, DepartmentMember],
    migration_dependencies=["backend.people.piccolo_app"],
)
