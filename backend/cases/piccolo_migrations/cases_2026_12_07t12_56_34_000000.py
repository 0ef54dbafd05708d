from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T12:56:34:000000"
VERSION = "1.38.0"
DESCRIPTION = "the door each older case came in by"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def name_the_doors_of_older_cases() -> None:
        # Cases made before the source column: the door follows from what they are.
        from backend.cases.tables import Case

        await Case.update({Case.source: "patrol"}).where(Case.kind == "incident")
        await Case.update({Case.source: "task"}).where(Case.kind == "task")
        await Case.update({Case.source: "anonymous"}).where(
            Case.reporter.is_null() & Case.tracking_key.is_not_null()
        )

    manager.add_raw(name_the_doors_of_older_cases)
    return manager
