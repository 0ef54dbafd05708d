import os

from piccolo.conf.apps import AppConfig

from backend.party.tables import BranchStar, CommunityNeed, NeedClaim, PartyMember, WorkerGrade

APP_CONFIG = AppConfig(
    app_name="party",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[PartyMember, CommunityNeed, NeedClaim, WorkerGrade, BranchStar],
    migration_dependencies=["backend.people.piccolo_app"],
)
