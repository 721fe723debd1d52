"""Export the ledger's log as a static C2SP tlog-tiles tree (``dosetrail log tiles --out DIR``).

Everything is read from one database snapshot for the newest checkpoint: the tiles (their bottom
rows) and the entry bundles it needs, then ``DIR/checkpoint`` last. Files are written atomically;
full tiles and bundles already present are left alone (immutable), so re-exporting only writes
what is new. Before the checkpoint is replaced every file is flushed to disk, so the published
checkpoint never names a tile that a crash could lose; a checkpoint already in ``DIR`` for a
larger tree is never replaced by a smaller one.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dosetrail.errors import NotFound, StorageError
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.note import parse_note
from dosetrail.log.storage import latest_checkpoint, log_tile, read_entries
from dosetrail.log.tiles import (
    TILE_WIDTH,
    bundle_path,
    encode_bundle,
    tile_path,
    tiles_at_level,
)
from dosetrail.store.engine import read_tx

__all__ = ["export_tiles"]

_BATCH_TILES = 64


def export_tiles(engine: Engine, out: DirectoryTiles) -> Checkpoint:
    """Write the tiles, entry bundles and checkpoint of the newest checkpoint into ``out``."""
    try:
        with read_tx(engine) as conn, out.locked():
            latest = latest_checkpoint(conn)
            if latest is None:
                raise NotFound("the log has no checkpoint yet: run `dosetrail log integrate`")
            size, _, note = latest
            cp = Checkpoint.parse(parse_note(note)[0])
            published = _published_size(out)
            if published is not None and published > size:
                return cp  # never move DIR's checkpoint backwards
            _write_tiles(conn, out, size)
            _write_bundles(conn, out, size)
            os.sync()
            out.write("checkpoint", note, sync=True)
            return cp
    except sa.exc.SQLAlchemyError as e:
        raise StorageError(f"cannot export the log: {e}") from e


def _published_size(out: DirectoryTiles) -> int | None:
    if not out.exists("checkpoint"):
        return None
    try:
        return Checkpoint.parse(parse_note(out.read("checkpoint"))[0]).size
    except Exception:  # an unreadable checkpoint is replaced, never trusted
        return None


def _write_tiles(conn: Connection, out: DirectoryTiles, size: int) -> None:
    level = 0
    while size >> (8 * level):
        tiles = dict(tiles_at_level(size, level))
        todo = [
            i for i, w in tiles.items() if w < TILE_WIDTH or not out.exists(tile_path(level, i))
        ]
        for b in range(0, len(todo), _BATCH_TILES):
            batch = todo[b : b + _BATCH_TILES]
            rows = conn.execute(
                sa.select(log_tile.c.idx, log_tile.c.width, log_tile.c.hashes)
                .where(log_tile.c.level == level, log_tile.c.idx.in_(batch))
                .order_by(log_tile.c.idx)
            ).all()
            found = {int(r.idx): r for r in rows}
            for i in batch:
                width = tiles[i]
                row = found.get(i)
                if row is None or row.width < width:
                    raise StorageError(f"tile {level}/{i} is not integrated")
                out.write(tile_path(level, i, width), bytes(row.hashes)[: width * 32])
        level += 1


def _write_bundles(conn: Connection, out: DirectoryTiles, size: int) -> None:
    for i, width in tiles_at_level(size, 0):
        path = bundle_path(i, width)
        if width == TILE_WIDTH and out.exists(path):
            continue
        start = i * TILE_WIDTH
        out.write(path, encode_bundle(list(read_entries(conn, start, start + width))))
