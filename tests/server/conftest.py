"""A real server on loopback for each test: uvicorn in a thread, parties with their own keys.

The parties' private keys stay in the test (as they stay with real parties): the ledger only
knows their verifier keys, so every capture is signed client-side (:mod:`dosetrail.server.client`).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from dosetrail.home import Home
from dosetrail.log.note import Signer
from dosetrail.server import ServerSettings, create_app
from dosetrail.server.client import capture_header, signed_headers
from dosetrail.server.deps import ServerState
from dosetrail.store.ledger import Ledger
from tests.store.conftest import home  # noqa: F401  (SQLite and PostgreSQL homes)

PARTIES = {
    "donor": "donor",
    "store": "store",
    "clinic": "facility",
    "carrier": "carrier",
    "operator": "operator",
    "monitor": "monitor",
    "witness1": "witness",
}


def register(where: Home) -> dict[str, Signer]:
    """Register the test parties (those not there yet) by public key; return their private keys."""
    ledger = Ledger.open(where)
    known = {p.name for p in ledger.parties()}
    signers = {}
    for name, role in PARTIES.items():
        if name in known:
            continue
        signer = Signer.generate(name)
        ledger.add_party(name, role, pubkey=signer.verifier_key)
        signers[name] = signer
    ledger.close()
    return signers


class Running:
    """uvicorn serving ``app`` on a loopback socket, in a thread."""

    def __init__(self, app: Any) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", ws="none", http="h11", lifespan="on", timeout_keep_alive=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@dataclass
class Live:
    """A running server, its state, the parties' keys and an HTTP client."""

    url: str
    state: ServerState
    signers: dict[str, Signer]
    client: httpx.Client
    home: Home
    extra: dict[str, Any] = field(default_factory=dict)

    def signed(
        self,
        method: str,
        target: str,
        party: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A request made as ``party`` (RFC 9421 signature)."""
        sig = signed_headers(self.signers[party], method, target, body)
        return self.client.request(method, target, content=body, headers={**sig, **(headers or {})})

    def capture(
        self, body: bytes, party: str, behaviour: str | None = None, **headers: str
    ) -> httpx.Response:
        """``POST /capture`` signed by ``party``, with the party's capture signature."""
        extra = {**capture_header(self.signers[party], body), "Content-Type": "application/json"}
        if behaviour:
            extra["GS1-Capture-Error-Behaviour"] = behaviour
        return self.signed("POST", "/capture", party, body, {**extra, **headers})

    def wait_job(self, location: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.client.get(location).json()
            if not job["running"]:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"capture job {location} still running")
            time.sleep(0.02)

    def integrated(self) -> int:
        """Integrate the log now (the worker would within a second) and return its size."""
        return self.state.ledger.integrate().size


def serve(where: Home, tmp_path: Path, **settings: Any) -> Iterator[Live]:
    signers = register(where)
    config = ServerSettings(home=where, integrate_interval_s=0.05, **settings)
    app = create_app(config)
    running = Running(app)
    client = httpx.Client(base_url=running.url, timeout=30)
    try:
        yield Live(running.url, app.state.dosetrail, signers, client, where)
    finally:
        client.close()
        running.stop()


@pytest.fixture
def live(home: Home, tmp_path: Path) -> Iterator[Live]:  # noqa: F811
    """A server on SQLite or PostgreSQL with the test parties registered."""
    yield from serve(home, tmp_path)


@pytest.fixture
def sqlite_live(tmp_path: Path) -> Iterator[Live]:
    """A server on SQLite only (for the slower suites)."""
    from dosetrail.store.engine import sqlite_url

    root = tmp_path / "home"
    yield from serve(Home(root, sqlite_url(root / "ledger.db")), tmp_path)
