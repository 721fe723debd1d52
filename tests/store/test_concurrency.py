"""Four processes capturing at once lose nothing and get gap-free log indices (both databases)."""

from __future__ import annotations

import multiprocessing as mp

import orjson
import sqlalchemy as sa

from dosetrail.home import Home
from dosetrail.log.storage import log_entry, log_head
from dosetrail.store.ledger import Ledger
from dosetrail.store.schema import capture, event
from tests.store import docs

WORKERS = 4
DOCS_EACH = 15
EVENTS_PER_DOC = 20


def _worker(home: Home, worker: int, acks: mp.Queue) -> None:  # type: ignore[type-arg]
    ledger = Ledger.open(home)
    for n in range(DOCS_EACH):
        base = (worker * DOCS_EACH + n) * EVENTS_PER_DOC
        events = [docs.commission(1, [docs.vial(base + k)]) for k in range(EVENTS_PER_DOC)]
        result = ledger.capture(docs.document(*events), "donor", name=f"w{worker}-{n}")
        acks.put((result.capture_id, result.log_index, result.event_log_indices))
    ledger.close()


def test_concurrent_captures_are_gap_free_and_complete(home: Home) -> None:
    setup = Ledger.open(home)
    setup.add_party("donor", "donor")
    setup.close()
    context = mp.get_context("spawn")
    acks: mp.Queue = context.Queue()  # type: ignore[type-arg]
    workers = [context.Process(target=_worker, args=(home, w, acks)) for w in range(WORKERS)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=300)
        assert p.exitcode == 0
    acked = [acks.get(timeout=10) for _ in range(WORKERS * DOCS_EACH)]
    ledger = Ledger.open(home)
    with ledger.engine.connect() as conn:
        size = int(conn.execute(sa.select(log_head.c.size)).scalar_one())
        indices = list(conn.execute(sa.select(log_entry.c.idx).order_by(log_entry.c.idx)).scalars())
        stored_events = set(conn.execute(sa.select(event.c.log_index)).scalars())
        captures = {
            bytes(d).hex(): int(i)
            for d, i in conn.execute(sa.select(capture.c.digest, capture.c.id))
        }
        kinds = [
            orjson.loads(d)["kind"]
            for d in conn.execute(sa.select(log_entry.c.data).order_by(log_entry.c.idx)).scalars()
        ]
    total = WORKERS * DOCS_EACH * (EVENTS_PER_DOC + 1)
    assert size == total
    assert indices == list(range(total))
    assert kinds.count("capture") == WORKERS * DOCS_EACH
    for capture_id, log_index, event_indices in acked:
        assert captures[capture_id] == log_index
        assert set(event_indices) <= stored_events
        assert list(event_indices) == list(range(log_index + 1, log_index + 1 + EVENTS_PER_DOC))
    assert len(stored_events) == WORKERS * DOCS_EACH * EVENTS_PER_DOC
    ledger.integrate()
    ledger.close()
