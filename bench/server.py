"""The server over HTTP: sustained capture events/s in batches, and query latency p50/p99.

``dosetrail serve`` runs in its own process on a fresh ledger (SQLite, then PostgreSQL with
``--pg``). Capture: ``--clients`` threads POST signed capture jobs of ``--batch`` events each
(documents and the parties' capture signatures prepared beforehand; each request is still
signed per RFC 9421 when sent) until ``--capture-events`` are acknowledged; the clock stops when
the last job has finished (stored, sequenced and committed), not at the 202. Queries: the
ledger is then filled to ``--query-size`` events (in-process, the same capture path without
HTTP, to save time) and each query kind below is timed over HTTP, sequentially.

Prints one JSON line per measurement. Run: ``python bench/server.py [--query-size 1000000]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _util import emit
from dosetrail.epcis import hash_id, read_document
from dosetrail.home import Home
from dosetrail.log.note import Signer
from dosetrail.server.client import capture_header, sign_capture, signed_headers
from dosetrail.store.capture import CaptureRequest
from dosetrail.store.ledger import Ledger
from ingest import _document

SITE = "urn:epc:id:sgln:9520001.00010.0"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Home, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DOSETRAIL_HOME": str(home.root), "DOSETRAIL_DB": home.db_url}
    args = [sys.executable, "-m", "dosetrail.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            httpx.get(f"http://127.0.0.1:{port}/log/key", timeout=1)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def capture(url: str, signer: Signer, total: int, batch: int, clients: int) -> dict[str, object]:
    bodies = [_document(first, min(batch, total - first)) for first in range(0, total, batch)]
    prepared = [(b, capture_header(signer, b)) for b in bodies]
    locations: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(prepared))

    def client() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    body, cap = queue.pop()
                headers = {**signed_headers(signer, "POST", "/capture", body), **cap}
                r = http.post("/capture", content=body, headers=headers)
                r.raise_for_status()
                with lock:
                    locations.append(r.headers["location"])

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    accepted = time.perf_counter() - start
    with httpx.Client(base_url=url, timeout=60) as http:
        for location in locations:
            while (job := http.get(location).json())["running"]:
                time.sleep(0.01)
            assert job["success"], job
    seconds = time.perf_counter() - start
    return {
        "events": total,
        "batch": batch,
        "clients": clients,
        "seconds": round(seconds, 2),
        "events_per_s": round(total / seconds),
        "accepted_per_s": round(total / accepted),
    }


def fill(home: Home, signer: Signer, have: int, size: int) -> None:
    ledger = Ledger.open(home)
    step = 10_000
    for first in range(have, size, step):
        data = _document(first, min(step, size - first))
        note = sign_capture(signer, data)
        request = CaptureRequest(data, "store", f"fill-{first}", signature=note)
        outcome = ledger.capture_batch([request])[0]
        if isinstance(outcome, Exception):
            raise outcome
    ledger.integrate()
    ledger.close()


def queries(url: str, size: int, repeat: int) -> list[dict[str, object]]:
    sample = read_document(_document(size // 2, 1)).events[0]
    prefixes = read_document(_document(0, 1)).prefixes()
    event_id = quote(hash_id(sample, prefixes), safe="")
    vial = quote(f"urn:epc:id:sgtin:9520001.012345.{(size // 2) * 4}", safe="")
    kinds = {
        "events_first_page": "/events?perPage=30",
        "eq_bizstep": "/events?EQ_bizStep=shipping&perPage=30",
        "match_epc": f"/events?MATCH_epc={vial}",
        "epc_resource": f"/epcs/{vial}/events",
        "biz_location": f"/bizLocations/{quote(SITE, safe='')}/events?perPage=30",
        "time_window": "/events?GE_eventTime=2024-01-05T00:00:00Z&LT_eventTime=2024-01-05T01:00:00Z"
        "&perPage=30",
        "event_by_id": f"/events/{event_id}",
        "event_proof": f"/log/proof/event?id={event_id}",
    }
    out = []
    with httpx.Client(base_url=url, timeout=60) as http:
        token = http.get("/events?perPage=30").json().get("nextPageToken")
        kinds["next_page"] = f"/events?perPage=30&nextPageToken={token}"
        for name, target in kinds.items():
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                r = http.get(target)
                times.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
            times.sort()
            body = r.json()
            results = body.get("epcisBody", {}).get("queryResults", {}).get("resultsBody", {})
            found = len(results.get("eventList", body.get("proofs", [])))
            out.append(
                {
                    "query": name,
                    "results": found,
                    "p50_ms": round(statistics.median(times), 2),
                    "p99_ms": round(times[min(len(times) - 1, int(0.99 * len(times)))], 2),
                }
            )
    return out


def run(database: str, url: str, root: Path, args: argparse.Namespace) -> None:
    home = Home(root, url)
    signer = Signer.generate("store")
    ledger = Ledger.open(home)
    ledger.add_party("store", "store", pubkey=signer.verifier_key, site=SITE)
    ledger.close()
    port = _port()
    server = _serve(home, port)
    base = f"http://127.0.0.1:{port}"
    try:
        result = capture(base, signer, args.capture_events, args.batch, args.clients)
        emit(bench="server_capture", database=database, **result)
        fill(home, signer, args.capture_events, args.query_size)
        time.sleep(1.5)  # the server's worker integrates within a second
        for q in queries(base, args.query_size, args.repeat):
            emit(bench="server_query", database=database, stored_events=args.query_size, **q)
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--capture-events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--query-size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--pg", default=os.environ.get("DOSETRAIL_TEST_PG"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "home"
        run("sqlite", f"sqlite+pysqlite:///{root / 'ledger.db'}", root, args)
    if args.pg:
        admin = sa.create_engine(args.pg)
        schema = f"bench_server_{os.getpid()}"
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = sa.engine.make_url(args.pg).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            with tempfile.TemporaryDirectory() as tmp:
                run("postgresql", url.render_as_string(hide_password=False), Path(tmp), args)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


if __name__ == "__main__":
    main()
