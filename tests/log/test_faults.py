"""Crash safety: SIGKILL real processes at random points during appends, integration and tile
export, many times; after each kill the log must verify and keep every acknowledged entry.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dosetrail.log.audit import audit_log
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.integrate import integrate
from dosetrail.log.note import Signer, parse_note
from dosetrail.log.reader import LogReader
from dosetrail.log.storage import init_log, read_entries
from dosetrail.store.engine import open_engine, read_tx, sqlite_url
from tests.log.conftest import ORIGIN

pytestmark = pytest.mark.slow

CHILD = Path(__file__).parent / "fault_child.py"
ROUNDS = 52
CHILDREN = 2
TIME_BUDGET_S = 50.0


class Child:
    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line == "ready\n":
                self.ready.set()

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._reader.join()
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        self.proc.stderr.close()
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        assert self.proc.returncode == -signal.SIGKILL, err

    def acks(self) -> list[tuple[int, int, str]]:
        out = []
        for line in self.lines:
            if line.startswith("ack ") and line.endswith("\n"):  # a cut line was never acked
                _, first, n, digest = line.split()
                out.append((int(first), int(n), digest))
        return out


def _dir_size(tiles: Path) -> int:
    if not (tiles / "checkpoint").exists():
        return 0
    return Checkpoint.parse(parse_note((tiles / "checkpoint").read_bytes())[0]).size


def test_sigkill_never_breaks_the_log_or_loses_an_acknowledged_entry(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    tiles = tmp_path / "tiles"
    key = tmp_path / "log.key"
    engine = open_engine(sqlite_url(db))
    init_log(engine, ORIGIN)
    signer = Signer.generate(ORIGIN)
    signer.save(key)
    rng = random.Random(20240611)
    acked: list[tuple[int, int, str]] = []
    kills = 0
    last_db_cp = last_dir_cp = 0
    started = time.monotonic()
    for rnd in range(ROUNDS):
        if time.monotonic() - started > TIME_BUDGET_S and kills >= 100:
            break
        children = [Child([str(db), str(tiles), str(key), f"r{rnd}c{c}"]) for c in range(CHILDREN)]
        for child in children:
            assert child.ready.wait(30), "child did not start"
        time.sleep(rng.uniform(0.0, 0.35))
        for child in children:
            time.sleep(rng.uniform(0.0, 0.02))
            child.kill()
            kills += 1
            acked.extend(child.acks())

        # A kill during export leaves the directory at a verifiable checkpoint, never backwards.
        if (tiles / "checkpoint").exists():
            audit_log(DirectoryTiles(tiles), [signer.verifier])
        assert _dir_size(tiles) >= last_dir_cp
        last_dir_cp = _dir_size(tiles)
        # Published checkpoints never go backwards.
        db_cp = LogReader(engine).checkpoint_size()
        assert db_cp >= last_db_cp
        last_db_cp = db_cp
        # Every acknowledged entry is there, at its index, unchanged.
        with read_tx(engine) as conn:
            for first, n, digest in acked:
                got = b"".join(read_entries(conn, first, first + n))
                assert hashlib.sha256(got).hexdigest() == digest, f"entries {first}+{n} lost"
        # Recovery: integrate and export from whatever state the kill left.
        if rnd % 5 == 4:
            integrate(engine, signer)
            export_tiles(engine, DirectoryTiles(tiles))
            result = audit_log(DirectoryTiles(tiles), [signer.verifier])
            assert result.entries >= sum(n for _, n, _ in acked)

    assert kills >= 100
    cp = integrate(engine, signer)
    export_tiles(engine, DirectoryTiles(tiles))
    result = audit_log(DirectoryTiles(tiles), [signer.verifier], proofs=50)
    assert result.checkpoint == cp
    covered = sorted(i for first, n, _ in acked for i in range(first, first + n))
    assert len(set(covered)) == len(covered)  # no index was handed out twice
    assert cp.size >= len(covered) > 0
