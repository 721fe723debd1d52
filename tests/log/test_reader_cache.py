"""LogReader's fast paths: the kept SQLite connection with short snapshots, and the tile cache.

Proofs must stay equal to the generic generators (RFC 9162 §2.1.3.1, §2.1.4.1) whatever the
cache holds, a snapshot must never hide tiles integrated after it began, and it must be released
when reads stop (a kept WAL snapshot would stop checkpoints from recycling the WAL).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from sqlalchemy.engine import Engine

from dosetrail.log.integrate import integrate
from dosetrail.log.merkle import consistency_proof, inclusion_proof
from dosetrail.log.note import Signer
from dosetrail.log.reader import LogReader
from dosetrail.log.sqlitetiles import SNAPSHOT_SECONDS, SqliteTileReader
from dosetrail.log.storage import append_entries, init_log, tile_fetcher
from dosetrail.log.tiles import TileCache, TileHashes
from dosetrail.store.engine import open_engine, read_tx, sqlite_url, write_tx
from tests.log import reference
from tests.log.conftest import ORIGIN


def _append(engine: Engine, entries: list[bytes]) -> None:
    with write_tx(engine) as conn:
        append_entries(conn, entries)


def test_proofs_match_generic_with_a_tiny_cache(engine: Engine, signer: Signer) -> None:
    data = [b"c%d" % i for i in range(3000)]
    _append(engine, data)
    integrate(engine, signer, chunk=700)
    reader = LogReader(engine, cache_tiles=2)  # the doorkeeper and eviction both at work
    rng = random.Random(5)
    with read_tx(engine) as conn:
        for size in (1, 2, 255, 256, 257, 2999, 3000):
            node = TileHashes(tile_fetcher(conn), size)
            for _ in range(20):
                i, m = rng.randrange(size), rng.randrange(1, size + 1)
                assert reader.inclusion_proof(i, size) == inclusion_proof(i, size, node)
                assert reader.consistency_proof(m, size) == consistency_proof(m, size, node)
    reader.clear_cache()
    assert reader.inclusion_proof(2999, 3000) == reference.path(2999, data)
    reader.close()
    assert reader.inclusion_proof(7, 3000) == reference.path(7, data)  # reopens after close
    reader.close()


def test_a_kept_snapshot_never_hides_newly_integrated_tiles(engine: Engine, signer: Signer) -> None:
    data = [b"s%d" % i for i in range(600)]
    reader = LogReader(engine)
    _append(engine, data[:300])
    integrate(engine, signer)
    assert reader.inclusion_proof(299, 300) == reference.path(299, data[:300])
    # Within the same snapshot window: tile 0/1 grows from 44 to 88 hashes, and tile 1/0 appears.
    _append(engine, data[300:])
    integrate(engine, signer)
    assert reader.inclusion_proof(599, 600) == reference.path(599, data)
    assert reader.consistency_proof(300, 600) == reference.proof(300, data)
    reader.close()


def test_snapshot_is_released_when_reads_stop(tmp_path: Path, signer: Signer) -> None:
    engine = open_engine(sqlite_url(tmp_path / "ledger.db"))
    init_log(engine, ORIGIN)
    _append(engine, [b"a", b"b", b"c"])
    integrate(engine, signer)
    tiles = SqliteTileReader(engine)
    assert tiles.fetch(0, 0, 3)[0] == 3
    assert tiles._conn is not None
    assert tiles._conn.in_transaction
    deadline = time.monotonic() + 5
    while tiles._conn.in_transaction and time.monotonic() < deadline:
        time.sleep(SNAPSHOT_SECONDS / 2)
    assert not tiles._conn.in_transaction
    tiles.close()
    assert tiles._conn is None
    engine.dispose()


def test_doorkeeper_admits_tiles_read_twice_once_full() -> None:
    cache = TileCache(2, doorkeeper=True)
    cache.put((0, 0), (1, b"a"))
    cache.put((0, 1), (1, b"b"))
    cache.put((0, 2), (1, b"c"))  # full: first miss is only remembered
    assert cache.get((0, 2), 1) is None
    assert cache.get((0, 0), 1) is not None
    cache.put((0, 2), (1, b"c"))  # second miss: admitted, the oldest goes
    assert cache.get((0, 2), 1) == (1, b"c")
    assert cache.get((0, 0), 1) is None
    cache.put((0, 1), (2, b"bb"))  # a grown tile already cached replaces its old width
    assert cache.get((0, 1), 2) == (2, b"bb")
    plain = TileCache(1)
    plain.put((0, 0), (1, b"a"))
    plain.put((0, 1), (1, b"b"))
    assert plain.get((0, 1), 1) == (1, b"b")
