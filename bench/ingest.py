"""Capture throughput (parse, validate, hash, sign, store, sequence) into SQLite and PostgreSQL.

Prints one JSON line per (database, size): events/s, seconds, database bytes per event, and the
time to trace one vial at that size. Documents hold 10,000 realistic ObjectEvents (cases of
vials moving through the cold chain, as in ``bench/epcis_hash.py``); each document is one signed
capture, i.e. one transaction. The peer for the ratio is ``epcis-event-hash-generator`` hashing
the same events (the reference tool only hashes; we also validate, sign and store).

Run: ``python bench/ingest.py [--sizes 10000,100000,1000000] [--pg URL]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _util import emit
from dosetrail.home import Home
from dosetrail.store.capture import CaptureRequest
from dosetrail.store.ledger import Ledger
from epcis_hash import CONTEXT, _event

PER_DOC = 10_000


def _document(first: int, n: int) -> bytes:
    events = []
    for i in range(first, first + n):
        e = _event(i)
        e["bizStep"], e["disposition"] = "shipping", "in_transit"
        e["readPoint"] = e["bizLocation"] = {"id": "urn:epc:id:sgln:9520001.00010.0"}
        events.append(e)
    return orjson.dumps(
        {
            "@context": [CONTEXT],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2024-01-01T00:00:00Z",
            "epcisBody": {"eventList": events},
        }
    )


def run(url: str, root: Path, size: int) -> dict[str, object]:
    ledger = Ledger.open(Home(root, url))
    ledger.add_party("store", "store", site="urn:epc:id:sgln:9520001.00010.0")
    docs = [_document(first, min(PER_DOC, size - first)) for first in range(0, size, PER_DOC)]
    start = time.perf_counter()
    for n, data in enumerate(docs):
        ledger.capture_batch([CaptureRequest(data, "store", f"doc-{n}")])
    seconds = time.perf_counter() - start
    checkpoint = ledger.integrate()
    t = time.perf_counter()
    steps = ledger.trace(f"urn:epc:id:sgtin:9520001.012345.{size // 2}")
    trace_ms = (time.perf_counter() - t) * 1000
    db = root / "ledger.db"
    size_bytes = sum(p.stat().st_size for p in root.glob("ledger.db*")) if db.exists() else None
    ledger.close()
    return {
        "events": size,
        "seconds": round(seconds, 2),
        "events_per_s": round(size / seconds),
        "log_size": checkpoint.size,
        "bytes_per_event": round(size_bytes / size) if size_bytes else None,
        "trace_ms": round(trace_ms, 1),
        "trace_steps": len(steps),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--pg", default=os.environ.get("DOSETRAIL_TEST_PG"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "home"
            result = run(f"sqlite+pysqlite:///{root / 'ledger.db'}", root, size)
            emit(bench="ingest", database="sqlite", **result)
        if args.pg:
            import sqlalchemy as sa

            admin = sa.create_engine(args.pg)
            schema = f"bench_{os.getpid()}_{size}"
            with admin.begin() as conn:
                conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            url = sa.engine.make_url(args.pg).update_query_dict(
                {"options": f"-csearch_path={schema}"}
            )
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    result = run(url.render_as_string(hide_password=False), Path(tmp), size)
                    emit(bench="ingest", database="postgresql", **result)
            finally:
                with admin.begin() as conn:
                    conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                shutil.rmtree(Path(tempfile.gettempdir()) / "none", ignore_errors=True)


if __name__ == "__main__":
    main()
