"""The one way to open the ledger database.

SQLite is the embedded default: WAL journal (readers never block the writer), ``synchronous=FULL``
(an acknowledged commit survives power loss, not only a killed process), and write transactions
started with ``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of deadlocking on
an upgrade. PostgreSQL is used as is; sequencing there relies on row locks (see ``dosetrail.log``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from dosetrail.errors import StorageError

__all__ = ["bulk_insert", "is_sqlite", "open_engine", "read_tx", "sqlite_url", "write_tx"]

_BUSY_TIMEOUT_MS = 60_000


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite ledger file."""
    return f"sqlite+pysqlite:///{path}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def open_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with dosetrail's connection settings applied."""
    if url.startswith("sqlite"):
        kwargs.setdefault("paramstyle", "named")  # so bulk_insert's SQL works on both databases
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as e:
        raise StorageError(f"cannot use database URL {_redact(url)!r}: {e}") from e
    if is_sqlite(engine):
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("dosetrail_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction; on SQLite it takes the write lock up front (``BEGIN IMMEDIATE``)."""
    with engine.connect() as conn:
        conn = conn.execution_options(dosetrail_write=True)
        with conn.begin():
            yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read transaction: a consistent snapshot, never blocking writers."""
    with engine.connect() as conn, conn.begin():
        yield conn


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable URL>"


def bulk_insert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows with the driver's ``executemany``, skipping SQLAlchemy's per-row work.

    Rows must all have the same keys and plain Python values of the columns' types; this is the
    ledger's hot path (a capture inserts several rows per event).
    """
    if not rows:
        return
    statement = sa.insert(table).values({name: sa.bindparam(name) for name in rows[0]})
    sql = str(statement.compile(dialect=conn.dialect))
    conn.exec_driver_sql(sql, rows)
