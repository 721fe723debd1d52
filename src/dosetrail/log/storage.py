"""The log's tables in the ledger database, and sequencing inside the caller's transaction.

Tables (all on :data:`dosetrail.store.schema.metadata`):

``log_head``        one row (``id = 1``): ``size`` = entries sequenced so far, ``origin`` = the
                    checkpoint origin line, chosen at first use.
``log_entry``       ``idx`` → ``data``: the entries, opaque bytes of at most 65,535.
``log_tile``        ``(level, idx)`` → ``width``, ``hashes``: the *tile tree* of each C2SP tile
                    (see :mod:`dosetrail.log.tiles`); the rightmost tile of a level is rewritten
                    as it grows, every other tile is full and never changes.
``log_checkpoint``  ``size`` → ``root``, ``note``: every signed checkpoint, in size order.

Sequencing (:func:`append_entries`) is ``UPDATE log_head SET size = size + n RETURNING size``
inside the caller's write transaction: a row lock on PostgreSQL, the database write lock on
SQLite — so concurrent writers get gap-free, non-overlapping indices, and the ledger can store
its events and their log entries atomically. Tiles and checkpoints are derived from
``log_entry`` by :func:`dosetrail.log.integrate.integrate` and can always be rebuilt.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dosetrail.errors import MalformedInput, StorageError
from dosetrail.log.tiles import MAX_ENTRY_SIZE, TileFetcher
from dosetrail.store.db import migrate
from dosetrail.store.engine import write_tx
from dosetrail.store.schema import metadata

__all__ = [
    "append_entries",
    "default_origin",
    "driver_sql",
    "entry_rows",
    "fetch_rows",
    "init_log",
    "integrated_size",
    "latest_checkpoint",
    "log_checkpoint",
    "log_entry",
    "log_head",
    "log_size",
    "log_tile",
    "origin_of",
    "read_entries",
    "tile_fetcher",
]

# SQLite makes an INTEGER PRIMARY KEY the rowid (fast appends); elsewhere a 64-bit integer.
_Index = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

log_head = sa.Table(
    "log_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("origin", sa.Text, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

log_entry = sa.Table(
    "log_entry",
    metadata,
    sa.Column("idx", _Index, primary_key=True, autoincrement=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

log_tile = sa.Table(
    "log_tile",
    metadata,
    sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("hashes", sa.LargeBinary, nullable=False),
)

log_checkpoint = sa.Table(
    "log_checkpoint",
    metadata,
    sa.Column("size", _Index, primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary, nullable=False),
    sa.Column("note", sa.LargeBinary, nullable=False),
)


def default_origin() -> str:
    """A fresh origin ``dosetrail.local/<16 random hex digits>`` for a new log.

    The origin names the log in its checkpoints and in witnesses' state; it is random so that two
    dosetrail installations never share one, and stored in the database at first use so that the
    log keeps it for life. Deployments with a public URL pass their own (e.g. ``example.org/log``).
    """
    return f"dosetrail.local/{secrets.token_hex(8)}"


def init_log(engine: Engine, origin: str | None = None) -> str:
    """Create the log tables and the head row if missing; return the log's origin.

    Idempotent; ``origin`` is only used when the log is new. The schema itself comes from the
    ledger's migrations (:func:`dosetrail.store.db.migrate`).
    """
    migrate(engine)
    try:
        with write_tx(engine) as conn:
            existing = conn.execute(sa.select(log_head.c.origin)).scalar_one_or_none()
            if existing is not None:
                return str(existing)
            chosen = origin or default_origin()
            conn.execute(sa.insert(log_head).values(id=1, size=0, origin=chosen))
            return chosen
    except sa.exc.SQLAlchemyError as e:
        raise StorageError(f"cannot initialise the log tables: {e}") from e


def append_entries(conn: Connection, entries: Sequence[bytes]) -> int:
    """Sequence ``entries`` in the caller's write transaction; return the first new index.

    The entries become durable, and their indices final, when the caller commits; a rollback
    frees the indices again (nothing was published). Entries are opaque bytes, at most 65,535.
    Rows go in with one driver ``executemany`` of plain tuples: per entry, SQLAlchemy's parameter
    dictionaries cost more than SQLite's insert itself.
    """
    n = len(entries)
    if n and max(map(len, entries)) > MAX_ENTRY_SIZE:
        i = next(i for i, e in enumerate(entries) if len(e) > MAX_ENTRY_SIZE)
        raise MalformedInput(
            f"log entry {i} of the batch is {len(entries[i])} bytes; "
            f"the maximum is {MAX_ENTRY_SIZE}"
        )
    if n == 0:
        return log_size(conn)
    new_size = conn.execute(
        sa.update(log_head)
        .where(log_head.c.id == 1)
        .values(size=log_head.c.size + n)
        .returning(log_head.c.size)
    ).scalar_one_or_none()
    if new_size is None:
        raise StorageError("the log is not initialised (no log_head row): run `dosetrail init`")
    first = int(new_size) - n
    sql = driver_sql(conn, "INSERT INTO log_entry (idx, data) VALUES (?, ?)")
    with _driver_errors(conn, "cannot store log entries"):
        # Any: DBAPICursor wants a Sequence, but both drivers take an iterator (no list built).
        cursor: Any = conn.connection.cursor()
        try:
            cursor.executemany(sql, zip(range(first, first + n), entries, strict=True))
        finally:
            cursor.close()
    return first


def driver_sql(conn: Connection, sql: str) -> str:
    """``sql``, written with ``?`` placeholders, in the parameter style of ``conn``'s driver.

    For hot paths that bypass SQLAlchemy (plain tuples into the DBAPI cursor). dosetrail runs on
    SQLite (``?``) and psycopg (``%s``).
    """
    if conn.dialect.name == "sqlite":
        return sql
    if conn.dialect.paramstyle in ("format", "pyformat"):
        return sql.replace("?", "%s")
    raise StorageError(f"unsupported database driver parameter style {conn.dialect.paramstyle}")


@contextmanager
def _driver_errors(conn: Connection, what: str) -> Iterator[None]:
    """Driver (DBAPI) errors raised by a bypassing hot path, as :class:`StorageError`."""
    dbapi: Any = conn.dialect.loaded_dbapi
    try:
        yield
    except dbapi.Error as e:
        raise StorageError(f"{what}: {e}") from e


def fetch_rows(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (``?`` placeholders) as plain tuples, straight from the driver."""
    with _driver_errors(conn, "cannot read the log"):
        cursor = conn.connection.cursor()
        try:
            cursor.execute(driver_sql(conn, sql), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()


def log_size(conn: Connection) -> int:
    """Entries sequenced so far (committed, as seen by ``conn``'s transaction)."""
    size = conn.execute(sa.select(log_head.c.size).where(log_head.c.id == 1)).scalar()
    if size is None:
        raise StorageError("the log is not initialised (no log_head row): run `dosetrail init`")
    return int(size)


def origin_of(conn: Connection) -> str:
    origin = conn.execute(sa.select(log_head.c.origin).where(log_head.c.id == 1)).scalar()
    if origin is None:
        raise StorageError("the log is not initialised (no log_head row): run `dosetrail init`")
    return str(origin)


def integrated_size(conn: Connection) -> int:
    """How many entries the stored tiles cover: the end of the rightmost level-0 tile."""
    row = conn.execute(
        sa.select(log_tile.c.idx, log_tile.c.width)
        .where(log_tile.c.level == 0)
        .order_by(log_tile.c.idx.desc())
        .limit(1)
    ).first()
    return 0 if row is None else int(row.idx) * 256 + int(row.width)


def latest_checkpoint(conn: Connection) -> tuple[int, bytes, bytes] | None:
    """``(size, root, signed note)`` of the newest checkpoint, or ``None`` before the first."""
    row = conn.execute(
        sa.select(log_checkpoint.c.size, log_checkpoint.c.root, log_checkpoint.c.note)
        .order_by(log_checkpoint.c.size.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row.size), bytes(row.root), bytes(row.note))


def read_entries(conn: Connection, start: int, end: int, batch: int = 4096) -> Iterator[bytes]:
    """Entries ``[start, end)`` in order, fetched ``batch`` at a time (memory bounded)."""
    pos = start
    while pos < end:
        stop = min(end, pos + batch)
        for (data,) in entry_rows(conn, pos, stop):
            yield bytes(data)
        pos = stop


def entry_rows(conn: Connection, start: int, end: int) -> list[tuple[bytes]]:
    """Rows ``(data,)`` of entries ``[start, end)`` in order; a gap is a :class:`StorageError`.

    ``idx`` is the primary key, so ``end - start`` rows in the range mean none is missing; only
    when rows are missing is the range read again to name the first gap.
    """
    rows = fetch_rows(
        conn, "SELECT data FROM log_entry WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
    )
    if len(rows) != end - start:
        present = fetch_rows(
            conn, "SELECT idx FROM log_entry WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
        )
        missing = next(
            (i for i, (idx,) in enumerate(present, start) if int(idx) != i), start + len(present)
        )
        raise StorageError(f"log entry {missing} is missing from the database")
    return rows


_TILE_QUERY = sa.select(log_tile.c.width, log_tile.c.hashes).where(
    log_tile.c.level == sa.bindparam("level"), log_tile.c.idx == sa.bindparam("idx")
)


def tile_fetcher(conn: Connection) -> TileFetcher:
    """Fetch tile trees from ``log_tile`` through ``conn`` (see :class:`TileHashes`)."""

    def fetch(level: int, index: int, width: int) -> tuple[int, bytes]:
        row = conn.execute(_TILE_QUERY, {"level": level, "idx": index}).first()
        if row is None or row.width < width:
            raise StorageError(
                f"tile {level}/{index} of width {width} is not stored: "
                "run `dosetrail log integrate`"
            )
        return int(row.width), bytes(row.hashes)

    return fetch
