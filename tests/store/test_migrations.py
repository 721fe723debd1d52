"""The Alembic migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dosetrail.home import Home
from dosetrail.store.db import alembic_config, migrate, schema_revision
from dosetrail.store.engine import open_engine
from dosetrail.store.schema import metadata


def test_migrated_schema_matches_metadata(home: Home) -> None:
    engine = open_engine(home.db_url)
    home.ensure()
    migrate(engine)
    migrate(engine)  # idempotent
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert schema_revision(engine) == head
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    engine.dispose()
