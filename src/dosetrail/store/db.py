"""Create or upgrade the ledger schema (Alembic), once per database.

``dosetrail init`` and every command that opens the ledger call :func:`migrate`; it is cheap when
the schema is current. Migrations live in ``dosetrail/store/migrations`` and are generated from
:data:`dosetrail.store.schema.metadata`.
"""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from dosetrail.errors import StorageError

__all__ = ["alembic_config", "migrate", "schema_revision"]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("dosetrail.store") / "migrations")
    )
    return config


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (no-op when it is already there)."""
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        if schema_revision(engine) == head:
            return
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except sa.exc.SQLAlchemyError as e:
        raise StorageError(f"cannot create or upgrade the ledger schema: {e}") from e
