"""Crash safety: SIGKILL a real capturing process at random moments, 200+ times.

After every kill the ledger must be consistent: the log is gap-free, every capture is whole (all
of its events and log entries, or none), and every capture the child acknowledged (printed after
its transaction committed) is present and intact. Periodically the log is integrated and its
exported tiles audited against the operator key.
"""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from dosetrail.home import Home
from dosetrail.log.audit import audit_log
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.storage import log_entry, log_head
from dosetrail.store.ledger import Ledger
from dosetrail.store.schema import capture, event
from tests.store import docs

KILLS = 210
EVENTS_PER_DOC = 40


def _document(n: int) -> bytes:
    vials = [docs.vial(n * 1000 + k) for k in range(EVENTS_PER_DOC)]
    return docs.document(*(docs.commission(1 + k % 20, [v]) for k, v in enumerate(vials)))


def _child(home: Home, start: int, ack_fd: int) -> None:
    """Capture documents start, start+1, … forever, acknowledging each after commit."""
    ledger = Ledger.open(home)
    n = start
    while True:
        result = ledger.capture(_document(n), "donor", name=f"doc-{n}")
        os.write(
            ack_fd, orjson.dumps([n, result.capture_id, result.log_index, result.stored]) + b"\n"
        )
        if n % 7 == 0:
            ledger.integrate()
        n += 1


def _run_and_kill(home: Home, start: int, delay: float) -> list[list[object]]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read_fd)
        try:
            _child(home, start, write_fd)
        finally:
            os._exit(1)
    os.close(write_fd)
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    acks = b""
    while chunk := os.read(read_fd, 65536):
        acks += chunk
    os.close(read_fd)
    return [orjson.loads(line) for line in acks.splitlines()]


def _check(ledger: Ledger, acked: dict[str, tuple[int, int]]) -> int:
    with ledger.engine.connect() as conn:
        size = int(conn.execute(sa.select(log_head.c.size)).scalar_one())
        indices = list(conn.execute(sa.select(log_entry.c.idx).order_by(log_entry.c.idx)).scalars())
        assert indices == list(range(size)), "the log has a gap or a phantom entry"
        captures = {
            bytes(r.digest).hex(): (int(r.id), int(r.event_count))
            for r in conn.execute(sa.select(capture.c.digest, capture.c.id, capture.c.event_count))
        }
        per_capture = {
            bytes(digest): int(count)
            for digest, count in conn.execute(
                sa.select(capture.c.digest, sa.func.count(event.c.log_index))
                .join(event, event.c.capture_id == capture.c.id)
                .group_by(capture.c.digest)
            )
        }
        entries = [
            orjson.loads(d)
            for d in conn.execute(sa.select(log_entry.c.data).order_by(log_entry.c.idx)).scalars()
        ]
    for capture_id, (log_index, count) in captures.items():
        assert per_capture.get(bytes.fromhex(capture_id), 0) == count, (
            f"capture {capture_id} is partial"
        )
        assert entries[log_index]["kind"] == "capture"
        assert entries[log_index]["capture"] == capture_id
    for capture_id, (log_index, stored) in acked.items():
        assert capture_id in captures, "an acknowledged capture was lost"
        assert captures[capture_id] == (log_index, stored)
    assert sum(1 for e in entries if e["kind"] == "capture") == len(captures)
    return size


@pytest.mark.slow
def test_sigkill_during_capture_never_leaves_a_partial_or_lost_capture(tmp_path: Path) -> None:
    home = Home(tmp_path / "home", f"sqlite+pysqlite:///{tmp_path / 'ledger.db'}")
    setup = Ledger.open(home)
    setup.add_party("donor", "donor")
    setup.close()
    rnd = random.Random(20261123)
    acked: dict[str, tuple[int, int]] = {}
    next_doc = 0
    sizes = []
    for kill in range(KILLS):
        for n, capture_id, log_index, stored in _run_and_kill(
            home, next_doc, rnd.uniform(0.02, 0.3)
        ):
            acked[str(capture_id)] = (int(log_index), int(stored))  # type: ignore[call-overload]
            next_doc = max(next_doc, int(n) + 1)  # type: ignore[call-overload]
        next_doc += 1  # the document being captured at the kill may or may not have committed
        ledger = Ledger.open(home)
        sizes.append(_check(ledger, acked))
        if kill % 30 == 29:
            ledger.integrate()
            tiles = DirectoryTiles(tmp_path / f"tiles-{kill}")
            export_tiles(ledger.engine, tiles)
            audit_log(tiles, [ledger.operator.verifier])
        ledger.close()
    assert len(acked) > KILLS // 2, "the child should usually commit something before the kill"
    assert sizes == sorted(sizes)
