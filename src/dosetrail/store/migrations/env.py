"""Alembic environment: runs on the connection that :func:`dosetrail.store.db.migrate` passes."""

from __future__ import annotations

from alembic import context

from dosetrail.log import storage as _log_tables  # noqa: F401  (registers the log's tables)
from dosetrail.server import tables as _server_tables  # noqa: F401  (and the server's)
from dosetrail.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
