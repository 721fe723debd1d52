"""Sequencing in the caller's transaction, integration into tiles, proofs from stored tiles.

Runs on SQLite and on PostgreSQL (``DOSETRAIL_TEST_PG``).
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.errors import MalformedInput, NotFound, StorageError
from dosetrail.log.checkpoint import open_checkpoint
from dosetrail.log.integrate import integrate
from dosetrail.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from dosetrail.log.note import Signer
from dosetrail.log.reader import LogReader
from dosetrail.log.storage import (
    append_entries,
    init_log,
    integrated_size,
    log_checkpoint,
    log_entry,
    log_tile,
    read_entries,
)
from dosetrail.store.engine import read_tx, write_tx
from tests.log import reference
from tests.log.conftest import ORIGIN, count_rows


def _append(engine: Engine, entries: list[bytes]) -> int:
    with write_tx(engine) as conn:
        return append_entries(conn, entries)


def test_append_returns_consecutive_indices(engine: Engine) -> None:
    assert _append(engine, [b"a", b"b"]) == 0
    assert _append(engine, []) == 2
    assert _append(engine, [b"c"]) == 2
    with read_tx(engine) as conn:
        assert list(read_entries(conn, 0, 3)) == [b"a", b"b", b"c"]


def test_append_is_part_of_the_callers_transaction(engine: Engine) -> None:
    def failing_capture() -> None:
        with write_tx(engine) as conn:
            append_entries(conn, [b"lost"])
            raise RuntimeError("the ledger failed to store its events")

    with pytest.raises(RuntimeError):
        failing_capture()
    assert _append(engine, [b"kept"]) == 0  # the rolled-back index is reused: nothing leaked
    assert count_rows(engine, log_entry) == 1


def test_entry_size_limit(engine: Engine) -> None:
    _append(engine, [b"x" * 65535])
    with pytest.raises(MalformedInput, match="log entry 1 of the batch is 65536 bytes"):
        _append(engine, [b"ok", b"x" * 65536])


def test_init_is_idempotent_and_keeps_the_origin(engine: Engine) -> None:
    assert init_log(engine, "other") == ORIGIN


def test_concurrent_writers_get_gap_free_indices(engine: Engine) -> None:
    firsts: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            for k in range(25):
                batch = [b"w%d-%d-%d" % (w, k, j) for j in range(1 + (k % 3))]
                firsts.append((_append(engine, batch), len(batch), w))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    covered = sorted(i for first, n, _ in firsts for i in range(first, first + n))
    assert covered == list(range(len(covered)))
    with read_tx(engine) as conn:
        stored = list(read_entries(conn, 0, len(covered)))
    assert len(set(stored)) == len(covered)


def test_integrate_in_chunks_matches_reference_and_is_idempotent(
    engine: Engine, signer: Signer
) -> None:
    data = [b"e%d" % i for i in range(1300)]
    _append(engine, data[:700])
    cp1 = integrate(engine, signer, chunk=97)
    assert (cp1.origin, cp1.size, cp1.root) == (ORIGIN, 700, reference.mth(data[:700]))
    assert integrate(engine, signer) == cp1  # nothing new: same checkpoint, none added
    assert count_rows(engine, log_checkpoint) == 1
    _append(engine, data[700:])
    cp2 = integrate(engine, signer, chunk=256)
    assert cp2.root == reference.mth(data)
    reader = LogReader(engine)
    note = open_checkpoint(reader.checkpoint(), [signer.verifier]).checkpoint
    assert note == cp2
    for i in (0, 255, 256, 699, 1299):
        verify_inclusion(leaf_hash(data[i]), i, 1300, reader.inclusion_proof(i, 1300), cp2.root)
        assert reader.inclusion_proof(i, 1300) == reference.path(i, data)
    proof = reader.consistency_proof(700, 1300)
    assert proof == reference.proof(700, data)
    verify_consistency(700, 1300, cp1.root, cp2.root, proof)
    # Older sizes are still provable from the grown tiles.
    assert reader.inclusion_proof(3, 700) == reference.path(3, data[:700])
    assert reader.root(513) == reference.mth(data[:513])


def test_tiles_can_be_rebuilt_from_entries(engine: Engine, signer: Signer) -> None:
    data = [b"r%d" % i for i in range(600)]
    _append(engine, data)
    cp = integrate(engine, signer)
    with write_tx(engine) as conn:
        conn.execute(sa.delete(log_tile))
    with read_tx(engine) as conn:
        assert integrated_size(conn) == 0
    assert integrate(engine, signer, chunk=50).root == cp.root
    assert LogReader(engine).root(600) == cp.root


def test_checkpoints_never_go_backwards(engine: Engine, signer: Signer) -> None:
    _append(engine, [b"a", b"b", b"c"])
    integrate(engine, signer)
    with write_tx(engine) as conn:  # pretend tiles were lost: the tree looks smaller
        conn.execute(sa.delete(log_tile))
        conn.execute(sa.update(sa.table("log_head", sa.column("size"))).values(size=0))
    assert integrate(engine, signer).size == 3  # the newest checkpoint stays the newest
    assert count_rows(engine, log_checkpoint) == 1


def test_empty_log_gets_a_checkpoint_of_size_zero(engine: Engine, signer: Signer) -> None:
    assert integrate(engine, signer).size == 0
    assert LogReader(engine).checkpoint_size() == 0


def test_reader_errors(engine: Engine, signer: Signer) -> None:
    reader = LogReader(engine)
    with pytest.raises(NotFound, match="no checkpoint yet"):
        reader.checkpoint()
    _append(engine, [b"a", b"b"])
    with pytest.raises(StorageError, match="not stored"):
        reader.inclusion_proof(0, 2)
    integrate(engine, signer)
    with pytest.raises(NotFound):
        reader.inclusion_proof(2, 2)
    with pytest.raises(NotFound):
        reader.consistency_proof(3, 2)
    with pytest.raises(NotFound):
        reader.entry(9)
    assert reader.entry(1) == b"b"


def test_uninitialised_log_is_a_storage_error(tmp_path: object) -> None:
    from dosetrail.store.engine import open_engine, sqlite_url
    from dosetrail.store.schema import metadata

    eng = open_engine(sqlite_url(tmp_path / "x.db"))  # type: ignore[operator]
    metadata.create_all(eng)
    with write_tx(eng) as conn, pytest.raises(StorageError, match="not initialised"):
        append_entries(conn, [b"a"])


def test_a_gap_in_the_entries_is_named(engine: Engine) -> None:
    _append(engine, [b"a", b"b", b"c", b"d"])
    with write_tx(engine) as conn:
        conn.execute(sa.delete(log_entry).where(log_entry.c.idx == 2))
    with read_tx(engine) as conn, pytest.raises(StorageError, match="log entry 2 is missing"):
        list(read_entries(conn, 0, 4))
    with read_tx(engine) as conn, pytest.raises(StorageError, match="log entry 4 is missing"):
        list(read_entries(conn, 3, 5))  # beyond the stored entries
