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
    """
    for i, e in enumerate(entries):
        if len(e) > MAX_ENTRY_SIZE:
            raise MalformedInput(
                f"log entry {i} of the batch is {len(e)} bytes; the maximum is {MAX_ENTRY_SIZE}"
            )
    n = len(entries)
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
    conn.execute(
        sa.insert(log_entry), [{"idx": first + i, "data": e} for i, e in enumerate(entries)]
    )
    return first


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
        rows = conn.execute(
            sa.select(log_entry.c.idx, log_entry.c.data)
            .where(log_entry.c.idx >= pos, log_entry.c.idx < stop)
            .order_by(log_entry.c.idx)
        ).all()
        for expect, row in enumerate(rows, start=pos):
            if int(row.idx) != expect:
                raise StorageError(f"log entry {expect} is missing from the database")
            yield bytes(row.data)
        if len(rows) != stop - pos:
            raise StorageError(f"log entry {pos + len(rows)} is missing from the database")
        pos = stop


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
