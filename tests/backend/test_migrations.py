"""The committed migrations build exactly the tables the code declares: a column added to a
table without its migration (or a migration that drifted) fails here, as Piccolo's own
``migrations new --auto`` would find it."""

from __future__ import annotations

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from backend.core.db import registry

APPS = sorted(registry().app_configs.items())


@pytest.mark.parametrize(("name", "app"), APPS, ids=[name for name, _ in APPS])
async def test_migrations_match_the_tables(name, app):
    # "n": answer no to Piccolo's "was this column renamed?" question, so a rename shows up
    # as a drop and an add, which is a difference all the same.
    statements = await AutoMigrationManager(auto_input="n").get_alter_statements(app)
    missing = [line for alter in statements for line in alter.statements]
    assert missing == [], f"{name} needs a migration for:\n" + "\n".join(missing)
