"""Tile reads for :class:`~dosetrail.log.reader.LogReader` on SQLite: one kept connection and
short-lived read snapshots.

Why: at 10^7 leaves most random proofs need one tile that no cache holds, and reading it is most
of the proof's time. Through a pooled SQLAlchemy connection and a transaction of its own that
read costs ~100 µs; through one kept DBAPI connection with its prepared statement ~10 µs, of which
~2 µs go to starting and ending a WAL read transaction (shared-memory locks, system calls). So a
read snapshot is kept across tile reads for at most :data:`SNAPSHOT_SECONDS`, then released — by
the next read if it is older than that, or by a timer when reads stop — so the WAL is never held
back for longer than that (a reader's snapshot stops checkpoints from recycling the WAL).

Reading from a snapshot up to that old is correct: full tiles never change, a partial tile only
grows, and every read checks the width it needs, so a tile read is valid for every tree size it
covers; a tile (or width) that the snapshot does not have yet is read again in a fresh snapshot
before it is reported missing.

The connection comes from the engine (dosetrail's settings: WAL, busy timeout) and is detached
from its pool, so a reader never holds a pooled connection; a lock serialises it between threads;
a forked child opens its own; it is closed by :meth:`SqliteTileReader.close` or when the reader
is garbage-collected.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.errors import StorageError

__all__ = ["SNAPSHOT_SECONDS", "SqliteTileReader"]

SNAPSHOT_SECONDS = 0.05

_forks = 0  # bumped in a forked child, whose inherited SQLite connections are not its own


def _after_fork() -> None:
    global _forks  # noqa: PLW0603 - one process-wide counter, read on every tile read
    _forks += 1


os.register_at_fork(after_in_child=_after_fork)


class SqliteTileReader:
    """``fetch(level, index, width)`` (a :data:`~dosetrail.log.tiles.TileFetcher`) on SQLite."""

    _SQL = "SELECT width, hashes FROM log_tile WHERE level = ? AND idx = ?"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None
        self._forks = -1
        self._finalizer: weakref.finalize[[], SqliteTileReader] | None = None
        self._since: float | None = None  # when the open read snapshot began
        self._timer: threading.Timer | None = None

    def fetch(self, level: int, index: int, width: int) -> tuple[int, bytes]:
        with self._lock:
            try:
                cur, reused = self._snapshot()
                rows = cur.execute(self._SQL, (level, index)).fetchall()
                if reused and (not rows or rows[0][0] < width):
                    self._end()  # integrated after the snapshot began? look again
                    cur, _ = self._snapshot()
                    rows = cur.execute(self._SQL, (level, index)).fetchall()
            except sqlite3.Error as e:
                self._drop()
                raise StorageError(f"cannot read tile {level}/{index}: {e}") from e
        if not rows or rows[0][0] < width:
            raise StorageError(
                f"tile {level}/{index} of width {width} is not stored: "
                "run `dosetrail log integrate`"
            )
        stored, hashes = rows[0]
        return int(stored), bytes(hashes)

    def close(self) -> None:
        """End the snapshot and close the connection (a later fetch opens a new one)."""
        with self._lock:
            self._drop()

    def _snapshot(self) -> tuple[sqlite3.Cursor, bool]:
        """The cursor in a read snapshot, and whether that snapshot began before this call."""
        cur = self._cursor
        if cur is None or self._forks != _forks:
            cur = self._open()
        now = time.monotonic()
        if self._since is not None and now - self._since > SNAPSHOT_SECONDS:
            self._end()
        if self._since is not None:
            return cur, True
        cur.execute("BEGIN")
        self._since = now
        self._timer = threading.Timer(SNAPSHOT_SECONDS, self._expire, args=(now,))
        self._timer.daemon = True
        self._timer.start()
        return cur, False

    def _expire(self, since: float) -> None:
        """Timer: end the snapshot begun at ``since`` if it is still open (reads have stopped)."""
        with self._lock:
            if self._since == since:
                try:
                    self._end()
                except sqlite3.Error:
                    self._drop()

    def _end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._since = None
        if self._conn is not None and self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def _open(self) -> sqlite3.Cursor:
        if self._finalizer is not None:  # inherited across fork: the parent's to close, not ours
            self._finalizer.detach()
        self._conn = self._cursor = self._finalizer = None
        self._since = self._timer = None
        try:
            pooled = self._engine.raw_connection()
            conn = pooled.driver_connection
            pooled.detach()
        except sa.exc.SQLAlchemyError as e:
            raise StorageError(f"cannot open the ledger database: {e}") from e
        if not isinstance(conn, sqlite3.Connection):  # pragma: no cover - engine is SQLite
            raise StorageError("the tile reader needs a SQLite connection")
        conn.execute("PRAGMA query_only = 1")
        self._conn, self._cursor, self._forks = conn, conn.cursor(), _forks
        self._finalizer = weakref.finalize(self, conn.close)
        return self._cursor

    def _drop(self) -> None:
        """Forget the connection, closing it if it is this process's own."""
        if self._timer is not None:
            self._timer.cancel()
        if self._finalizer is not None:
            if self._forks == _forks:
                self._finalizer()
            else:
                self._finalizer.detach()
        self._conn = self._cursor = self._finalizer = None
        self._since = self._timer = None
