"""Integration: extend the stored tiles over newly sequenced entries and sign a checkpoint.

:func:`integrate` runs in separate transactions from sequencing. It works in bounded chunks
(memory does not grow with the log): each chunk reads the entries and the rightmost tile of each
level in a read transaction, hashes outside any lock, then writes the new tiles in a short write
transaction that first checks no other integrator got there (tiles are a pure function of the
entries, so a repeated or interrupted run is harmless — it is resumable and idempotent). The
checkpoint is signed last, for a size whose entries and tiles are committed (durable), and only
if it is larger than every stored checkpoint: checkpoints never go backwards.
"""

from __future__ import annotations

from operator import itemgetter

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dosetrail.errors import StorageError
from dosetrail.log.checkpoint import Checkpoint, sign_checkpoint
from dosetrail.log.merkle import leaf_hashes, tree_root
from dosetrail.log.note import NoteSigner
from dosetrail.log.storage import (
    entry_rows,
    integrated_size,
    latest_checkpoint,
    log_checkpoint,
    log_head,
    log_size,
    log_tile,
    origin_of,
    tile_fetcher,
)
from dosetrail.log.tiles import TILE_HEIGHT, TILE_WIDTH, TileHashes, tile_tree
from dosetrail.store.engine import read_tx, write_tx

__all__ = ["DEFAULT_CHUNK", "extend_tiles", "integrate"]

DEFAULT_CHUNK = 1 << 16
_TILE_BYTES = TILE_WIDTH * 32

Tile = tuple[int, int, int, bytes]
"""``(level, index, width, tile tree)``."""


def integrate(engine: Engine, signer: NoteSigner, *, chunk: int = DEFAULT_CHUNK) -> Checkpoint:
    """Bring the tiles up to the sequenced size and return the newest signed checkpoint."""
    if chunk < 1:
        raise ValueError("chunk must be positive")
    try:
        while _integrate_chunk(engine, chunk):
            pass
        return _checkpoint(engine, signer)
    except sa.exc.SQLAlchemyError as e:
        raise StorageError(f"cannot integrate the log: {e}") from e


def _integrate_chunk(engine: Engine, chunk: int) -> bool:
    """Integrate up to ``chunk`` entries; ``False`` when there was nothing left to do."""
    with read_tx(engine) as conn:
        target, done = log_size(conn), integrated_size(conn)
        if done >= target:
            return False
        end = min(target, done + chunk)
        leaves = leaf_hashes(map(itemgetter(0), entry_rows(conn, done, end)))
        edges = _right_edges(conn, done)
    tiles = extend_tiles(done, leaves, edges)
    with write_tx(engine) as conn:
        if integrated_size(conn) != done:
            return True  # another integrator moved on; start again from its result
        for level in sorted({t[0] for t in tiles}):
            first = min(t[1] for t in tiles if t[0] == level)
            conn.execute(
                sa.delete(log_tile).where(log_tile.c.level == level, log_tile.c.idx == first)
            )
        conn.execute(
            sa.insert(log_tile),
            [{"level": lv, "idx": ix, "width": w, "hashes": h} for lv, ix, w, h in tiles],
        )
    return True


def _right_edges(conn: Connection, size: int) -> dict[int, bytes]:
    """The hashes already in the rightmost (partial) tile of each level, for a tree of ``size``."""
    edges: dict[int, bytes] = {}
    fetch = tile_fetcher(conn)
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        width = count % TILE_WIDTH
        if width:
            _, tree = fetch(level, count // TILE_WIDTH, width)
            edges[level] = tree[: width * 32]
        level += 1
    return edges


def extend_tiles(old_size: int, leaves: bytes, edges: dict[int, bytes]) -> list[Tile]:
    """The tiles that change when leaf hashes ``leaves`` (concatenated) follow ``old_size``.

    ``edges[level]`` holds the hashes of the partial tile of each level at ``old_size``.
    Returns each new or grown tile with its tile tree; a tile that becomes full passes its root
    up as a new hash of the level above.
    """
    out: list[Tile] = []
    new, count, level = leaves, old_size, 0
    while new:
        first, width0 = divmod(count, TILE_WIDTH)
        prefix = edges.get(level, b"") if width0 else b""
        if len(prefix) != width0 * 32:
            raise StorageError(f"tile {level}/{first} has {len(prefix) // 32} hashes, not {width0}")
        data = prefix + new
        parents = []
        for k, off in enumerate(range(0, len(data), _TILE_BYTES)):
            row0 = data[off : off + _TILE_BYTES]
            tree = tile_tree(row0)
            out.append((level, first + k, len(row0) // 32, tree))
            if len(row0) == _TILE_BYTES:
                parents.append(tree[-32:])
        new, count, level = b"".join(parents), count >> TILE_HEIGHT, level + 1
    return out


def _checkpoint(engine: Engine, signer: NoteSigner) -> Checkpoint:
    with write_tx(engine) as conn:
        # Serialise checkpointers (row lock on PostgreSQL; SQLite already holds the write lock).
        conn.execute(sa.select(log_head.c.id).where(log_head.c.id == 1).with_for_update())
        size = integrated_size(conn)
        origin = origin_of(conn)
        latest = latest_checkpoint(conn)
        if latest is not None and latest[0] >= size:
            return Checkpoint(origin, latest[0], latest[1])
        root = tree_root(size, TileHashes(tile_fetcher(conn), size))
        cp = Checkpoint(origin, size, root)
        note = sign_checkpoint(cp, [signer])
        conn.execute(sa.insert(log_checkpoint).values(size=size, root=root, note=note))
        return cp
