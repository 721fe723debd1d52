"""Replay a simulated campaign into a ledger, as its parties would have captured it.

Every party of ``parties.json`` is registered with its role and site (keys created in the
ledger's home); the operator publishes ``masterdata.jsonld``; then every document is captured by
its party in capture-day order, with recordTime set to that day (a live ledger uses its clock;
a replay must not, or every event would look recorded late).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from dosetrail.epcis.timestamps import to_micros
from dosetrail.errors import AuthError, DosetrailError, MalformedInput
from dosetrail.store.capture import (
    Allowed,
    CaptureRequest,
    PartyBook,
    Prepared,
    prepare_batch,
    store_prepared,
)
from dosetrail.store.ledger import Ledger
from dosetrail.store.parties import Party

__all__ = ["LoadResult", "load_simulation"]

Progress = Callable[[int, int], None]  # (documents done, documents in all)
_CAPTURE_HOUR_UTC = 9  # 18:00 in Pyongyang: documents of a day are captured that evening
_BATCH = 64  # documents per transaction: a replay need not pay one commit per document


@dataclass(frozen=True, slots=True)
class LoadResult:
    parties: int
    documents: int
    events: int
    duplicates: int


def _request(sim: Path, day: date, party: str, path: Path) -> CaptureRequest:
    received = datetime(day.year, day.month, day.day, _CAPTURE_HOUR_UTC, tzinfo=UTC)
    return CaptureRequest(
        path.read_bytes(), party, str(path.relative_to(sim)), None, to_micros(received)
    )


_Book = dict[str, tuple[Party, Allowed]]
_worker: dict[str, tuple[Path, _Book]] = {}  # per worker process: set once by the initializer


def _init_worker(keys_dir: Path, book: _Book) -> None:
    _worker["state"] = (keys_dir, book)


def _prepare_in_worker(batch: list[CaptureRequest]) -> list[Prepared]:
    keys_dir, book = _worker["state"]

    def lookup(name: str) -> tuple[Party, Allowed]:
        if name not in book:
            raise AuthError(f"unknown party {name!r}: register it with `dosetrail party add`")
        return book[name]

    return prepare_batch(keys_dir, batch, lookup)


def _prepared(
    ledger: Ledger,
    book: PartyBook,
    batches: Iterator[list[CaptureRequest]],
    parties: set[str],
    workers: int | None,
) -> Iterator[list[Prepared]]:
    """Prepared batches in order: in a process pool when there is more than one CPU to use."""
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1:
        for batch in batches:
            yield prepare_batch(ledger.home.keys_dir, batch, book.lookup)
        return
    snapshot = book.snapshot(parties)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        count,
        mp_context=context,
        initializer=_init_worker,
        initargs=(ledger.home.keys_dir, snapshot),
    ) as pool:
        # A bounded window of batches in flight: enough to keep every worker busy, few enough
        # that prepared documents never pile up in memory while the writer catches up.
        pending: deque[Future[list[Prepared]]] = deque()
        for batch in batches:
            pending.append(pool.submit(_prepare_in_worker, batch))
            if len(pending) >= 2 * count:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _documents(sim: Path) -> list[tuple[date, str, Path]]:
    found = []
    for path in sorted((sim / "epcis").glob("*/*.jsonld")):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError as e:
            raise MalformedInput(f"{path}: file name is not a capture day (YYYY-MM-DD)") from e
        found.append((day, path.parent.name, path))
    return sorted(found)


def load_simulation(
    ledger: Ledger, sim: Path, progress: Progress | None = None, *, workers: int | None = None
) -> LoadResult:
    """Register the simulation's parties and capture all its documents into ``ledger``.

    Validating, hashing and signing (most of the work) run in ``workers`` processes (default:
    one per CPU); the captures are stored by this process in document order, a batch per
    transaction, exactly as :meth:`Ledger.capture_batch` would.
    """
    try:
        parties = orjson.loads((sim / "parties.json").read_bytes())["parties"]
    except (OSError, orjson.JSONDecodeError, KeyError) as e:
        raise MalformedInput(f"{sim}: not a simulation output (parties.json): {e}") from e
    known = {p.name for p in ledger.parties()}
    operator = None
    for p in parties:
        if p["role"] == "operator":
            operator = p["key"]
        if p["key"] not in known:
            ledger.add_party(p["key"], p["role"], site=p.get("site"))
    if operator is None:
        operator = "operator"
        if operator not in known:
            ledger.add_party(operator, "operator")
    ledger.capture((sim / "masterdata.jsonld").read_bytes(), operator, name="masterdata.jsonld")
    documents = _documents(sim)
    batches = (  # read lazily: a national campaign is gigabytes of JSON
        [_request(sim, day, party, path) for day, party, path in documents[i : i + _BATCH]]
        for i in range(0, len(documents), _BATCH)
    )
    book = PartyBook(ledger.engine)
    events = duplicates = done = 0
    parties_used = {party for _, party, _ in documents}
    for outcomes in _prepared(ledger, book, batches, parties_used, workers):
        for outcome in store_prepared(ledger.engine, outcomes):
            if isinstance(outcome, DosetrailError):
                raise outcome
            events += outcome.stored
            duplicates += len(outcome.duplicates)
            done += 1
        if progress is not None:
            progress(done, len(documents))
    return LoadResult(len(parties), len(documents), events, duplicates)
