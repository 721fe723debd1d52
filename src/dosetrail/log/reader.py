"""Proofs and checkpoints served from the ledger database (the log operator's read side).

:class:`LogReader` computes RFC 9162 inclusion and consistency proofs from the stored tiles,
never from the entries, keeping hot tiles in a bounded cache. Full tiles never change and a
partial tile only grows, so a cached tile stays valid for every tree size it covers.

Proofs are sliced out of tile trees by :class:`~dosetrail.log.tileproofs.TileProver`. On SQLite,
a tile that is not cached is read by :class:`~dosetrail.log.sqlitetiles.SqliteTileReader` (one
kept connection, short read snapshots): at 10^7 leaves most random proofs need one such read, and
a pooled SQLAlchemy connection with its own transaction would cost more than the rest of the
proof. On PostgreSQL tiles are read through the engine as before (a network round trip anyway).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.errors import NotFound
from dosetrail.log.merkle import tree_root
from dosetrail.log.sqlitetiles import SqliteTileReader
from dosetrail.log.storage import latest_checkpoint, log_entry, tile_fetcher
from dosetrail.log.tileproofs import TileProver
from dosetrail.log.tiles import TileCache, TileFetcher, TileHashes
from dosetrail.store.engine import is_sqlite, read_tx

__all__ = ["LogReader"]


class LogReader:
    """Read the log from the database: latest checkpoint, entries, roots and proofs.

    One reader may be shared by threads (the server keeps one). :meth:`close` releases its kept
    SQLite connection; an unclosed reader releases it when garbage-collected.
    """

    def __init__(self, engine: Engine, cache_tiles: int = 4096) -> None:
        self._engine = engine
        self._cache = TileCache(cache_tiles, doorkeeper=True)
        self._sqlite = SqliteTileReader(engine) if is_sqlite(engine) else None
        self._fetch_tile: TileFetcher = (
            self._sqlite.fetch if self._sqlite is not None else self._fetch
        )
        self._prover = TileProver(self._fetch_tile, self._cache)

    def close(self) -> None:
        """Close the kept database connection (a later call opens a new one)."""
        if self._sqlite is not None:
            self._sqlite.close()

    def clear_cache(self) -> None:
        """Forget every cached tile and proof tail (the next proofs read the database)."""
        self._cache.clear()
        self._prover.clear()

    def checkpoint(self) -> bytes:
        """The newest signed checkpoint note."""
        with read_tx(self._engine) as conn:
            latest = latest_checkpoint(conn)
        if latest is None:
            raise NotFound("the log has no checkpoint yet: run `dosetrail log integrate`")
        return latest[2]

    def checkpoint_size(self) -> int:
        with read_tx(self._engine) as conn:
            latest = latest_checkpoint(conn)
        return 0 if latest is None else latest[0]

    def entry(self, index: int) -> bytes:
        with read_tx(self._engine) as conn:
            data = conn.execute(
                sa.select(log_entry.c.data).where(log_entry.c.idx == index)
            ).scalar_one_or_none()
        if data is None:
            raise NotFound(f"log entry {index} does not exist")
        return bytes(data)

    def root(self, size: int) -> bytes:
        return tree_root(size, TileHashes(self._fetch_tile, size, self._cache))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 proof that entry ``index`` is in the tree of ``size``."""
        if not 0 <= index < size:
            raise NotFound(f"log entry {index} is not in a tree of size {size}")
        return self._prover.inclusion_proof(index, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof that tree ``old_size`` is a prefix of tree ``new_size``."""
        if not 0 <= old_size <= new_size:
            raise NotFound(f"no consistency proof from size {old_size} to size {new_size}")
        return self._prover.consistency_proof(old_size, new_size)

    def _fetch(self, level: int, index: int, width: int) -> tuple[int, bytes]:
        # A missing tile (a size beyond what is integrated) is a StorageError from the fetcher.
        with read_tx(self._engine) as conn:
            return tile_fetcher(conn)(level, index, width)
