"""Load and faults with real processes: 8 clients capture over loopback while the server is
SIGKILLed and restarted; nothing acknowledged is lost, nothing is stored twice, and the log's
indices stay gap-free (SQLite and PostgreSQL).

Acknowledged means a 202 capture job (stored durably before the answer, so it must end in
success even if the server died before running it) or a 201 single event. The load runs
``DOSETRAIL_LOAD_SECONDS`` (default 12; the issue's 60 s with ``DOSETRAIL_LOAD_SECONDS=60``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa

from dosetrail.epcis import digest, read_document
from dosetrail.home import Home
from dosetrail.log.audit import audit_log
from dosetrail.log.note import Signer
from dosetrail.log.storage import log_entry, log_head
from dosetrail.server.client import capture_header, signed_headers
from dosetrail.store.engine import open_engine
from dosetrail.store.ledger import Ledger
from dosetrail.store.schema import capture, event
from tests.server.test_log import HttpTiles
from tests.store import docs

pytestmark = pytest.mark.slow

CLIENTS = 8
EVENTS_PER_DOC = 20
SECONDS = float(os.environ.get("DOSETRAIL_LOAD_SECONDS", "12"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``dosetrail serve`` in its own process."""

    def __init__(self, home: Home, port: int, log: Path) -> None:
        self.home, self.port, self.log = home, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DOSETRAIL_HOME": str(self.home.root),
            "DOSETRAIL_DB": self.home.db_url,
        }
        args = [sys.executable, "-m", "dosetrail.cli", "serve", "--port", str(self.port)]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/log/key", timeout=1)
                return
            except httpx.TransportError:
                assert self.proc.poll() is None, self.log.read_text()
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown, no flush, nothing graceful
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@dataclass
class Acks:
    jobs: list[tuple[str, list[bytes]]] = field(default_factory=list)  # location, digests
    events: list[bytes] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(url: str, signer: Signer, worker: int, stop: threading.Event, acks: Acks) -> None:
    n = 0
    with httpx.Client(base_url=url, timeout=10) as http:
        while not stop.is_set():
            n += 1
            base = (worker * 1_000_000 + n) * EVENTS_PER_DOC
            single = n % 5 == 0
            count = 1 if single else EVENTS_PER_DOC
            events = [docs.commission(1, [docs.vial(base + k)]) for k in range(count)]
            if single:
                body = orjson.dumps({"@context": docs.CONTEXT, **events[0]})
            else:
                body = docs.document(*events)
            doc = read_document(body)
            digests = [digest(ev, doc.prefixes()) for ev in doc.events]
            target = "/events" if single else "/capture"
            headers = {
                **signed_headers(signer, "POST", target, body),
                **capture_header(signer, body),
                "Content-Type": "application/json",
            }
            try:
                r = http.post(target, content=body, headers=headers)
            except httpx.TransportError:
                with acks.lock:
                    acks.refused += 1
                time.sleep(0.1)  # the server is down: try again (a new document) shortly
                continue
            with acks.lock:
                if r.status_code == 202:
                    acks.jobs.append((r.headers["location"], digests))
                elif r.status_code == 201:
                    acks.events.extend(digests)
                else:
                    acks.refused += 1


def _wait_jobs(url: str, acks: Acks) -> list[dict[str, object]]:
    finished = []
    deadline = time.monotonic() + 180
    with httpx.Client(base_url=url, timeout=10) as http:
        for location, _ in acks.jobs:
            while True:
                job = http.get(location).json()
                if not job["running"]:
                    finished.append(job)
                    break
                assert time.monotonic() < deadline, f"{location} never finished"
                time.sleep(0.05)
    return finished


def test_kill_mid_load_loses_nothing_acknowledged(home: Home, tmp_path: Path) -> None:
    signer = Signer.generate("donor")
    ledger = Ledger.open(home)
    ledger.add_party("donor", "donor", pubkey=signer.verifier_key)
    ledger.close()
    server = Server(home, _free_port(), tmp_path / "server.log")
    url = f"http://127.0.0.1:{server.port}"
    server.start()
    stop, acks = threading.Event(), Acks()
    clients = [
        threading.Thread(target=_client, args=(url, signer, w, stop, acks), daemon=True)
        for w in range(CLIENTS)
    ]
    started = time.monotonic()
    try:
        for c in clients:
            c.start()
        time.sleep(SECONDS / 2)
        before_kill = len(acks.jobs)
        server.kill()
        time.sleep(0.5)
        server.start()
        time.sleep(SECONDS / 2)
        stop.set()
        for c in clients:
            c.join(timeout=60)
        elapsed = time.monotonic() - started
        jobs = _wait_jobs(url, acks)
        assert before_kill > 0
        assert len(acks.jobs) > before_kill  # captures went on after the restart
        assert all(j["success"] for j in jobs), [j for j in jobs if not j["success"]][:3]
    finally:
        stop.set()
        server.stop()
    acked = [d for _, ds in acks.jobs for d in ds] + acks.events
    engine = open_engine(home.db_url)
    with engine.connect() as conn:
        hashes = [bytes(h) for h in conn.execute(sa.select(event.c.hash)).scalars()]
        size = int(conn.execute(sa.select(log_head.c.size)).scalar_one())
        indices = list(conn.execute(sa.select(log_entry.c.idx).order_by(log_entry.c.idx)).scalars())
        n_captures = int(conn.execute(sa.select(sa.func.count()).select_from(capture)).scalar_one())
        kinds = [
            orjson.loads(d)["kind"] for d in conn.execute(sa.select(log_entry.c.data)).scalars()
        ]
    engine.dispose()
    assert set(acked) <= set(hashes), f"{len(set(acked) - set(hashes))} acknowledged events lost"
    assert len(hashes) == len(set(hashes)), "an event was stored twice"
    assert indices == list(range(size)), "log indices have a gap"
    assert kinds.count("capture") == n_captures
    assert kinds.count("event") == len(hashes)
    rate = len(acked) / elapsed
    print(
        f"\n{len(acks.jobs)} jobs + {len(acks.events)} single events acknowledged, "
        f"{acks.refused} refused while down; {rate:,.0f} events/s over {elapsed:.0f} s"
    )
    # the restarted server integrates everything and the log audits clean over HTTP
    restarted = Server(home, _free_port(), tmp_path / "server2.log")
    restarted.start()
    check = httpx.Client(base_url=f"http://127.0.0.1:{restarted.port}", timeout=30)
    try:
        operator = Ledger.open(home)
        deadline = time.monotonic() + 60
        while True:
            result = audit_log(HttpTiles(check), [operator.operator.verifier])
            if result.checkpoint.size == size or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        operator.close()
        assert result.checkpoint.size == size
    finally:
        check.close()
        restarted.stop()
