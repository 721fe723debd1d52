"""Proofs and checkpoints served from the ledger database (the log operator's read side).

:class:`LogReader` computes RFC 9162 inclusion and consistency proofs from the stored tiles,
never from the entries, keeping hot tiles in a bounded cache. Full tiles never change and a
partial tile only grows, so a cached tile stays valid for every tree size it covers.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.errors import NotFound
from dosetrail.log.merkle import consistency_proof, inclusion_proof, tree_root
from dosetrail.log.storage import latest_checkpoint, log_entry, tile_fetcher
from dosetrail.log.tiles import TileCache, TileHashes
from dosetrail.store.engine import read_tx

__all__ = ["LogReader"]


class LogReader:
    """Read the log from the database: latest checkpoint, entries, roots and proofs."""

    def __init__(self, engine: Engine, cache_tiles: int = 4096) -> None:
        self._engine = engine
        self._cache = TileCache(cache_tiles)

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
        return tree_root(size, self._hashes(size))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 proof that entry ``index`` is in the tree of ``size``."""
        if not 0 <= index < size:
            raise NotFound(f"log entry {index} is not in a tree of size {size}")
        return inclusion_proof(index, size, self._hashes(size))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof that tree ``old_size`` is a prefix of tree ``new_size``."""
        if not 0 <= old_size <= new_size:
            raise NotFound(f"no consistency proof from size {old_size} to size {new_size}")
        return consistency_proof(old_size, new_size, self._hashes(new_size))

    def _hashes(self, size: int) -> TileHashes:
        # Only a cache miss touches the database; a missing tile (a size beyond what is
        # integrated) is a StorageError from the fetcher.
        return TileHashes(self._fetch, size, self._cache)

    def _fetch(self, level: int, index: int, width: int) -> tuple[int, bytes]:
        with read_tx(self._engine) as conn:
            return tile_fetcher(conn)(level, index, width)
