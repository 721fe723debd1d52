"""Capture jobs (EPCIS 2.0 §12 ``POST /capture``): durable, batched, resumed after a crash.

``submit`` stores the job — the document as received and the party's capture signature — in
``capture_job`` and commits before the client is told 202, so an acknowledged job survives a
killed server. One worker thread takes queued jobs in arrival order and captures up to
``batch_jobs`` of them in ONE ledger transaction (:meth:`~dosetrail.store.ledger.Ledger.
capture_batch`: group commit, each document still validated and signed on its own), then
records each job's outcome and drops its body. A job interrupted between the two commits is
simply run again at the next start: captures are idempotent (the document's SHA-256 is its
capture id), so nothing is stored twice. After each batch, and at most every
``integrate_interval_s``, the worker extends the log and signs a checkpoint.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from dosetrail.errors import DosetrailError, InvalidDocument, NotFound, StorageError
from dosetrail.server.problems import problem_list
from dosetrail.server.tables import capture_job
from dosetrail.store.capture import CaptureRequest, CaptureResult
from dosetrail.store.engine import read_tx, write_tx
from dosetrail.store.ledger import Ledger
from dosetrail.store.parties import Party

__all__ = ["Job", "JobRunner", "job_document"]

_log = logging.getLogger("dosetrail.server.jobs")
_MAX_ATTEMPTS = 5
_JOB_COLUMNS = (  # what a job document shows (the submitted bytes stay in the table)
    capture_job.c.id,
    capture_job.c.created,
    capture_job.c.finished,
    capture_job.c.behaviour,
    capture_job.c.success,
    capture_job.c.result,
)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    party: str
    body: bytes
    signature: bytes
    behaviour: str


class JobRunner:
    """The queue of capture jobs and the worker thread that runs them."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        batch_jobs: int = 64,
        batch_bytes: int = 64 << 20,
        integrate_interval_s: float = 1.0,
    ) -> None:
        self.ledger = ledger
        self.batch_jobs = batch_jobs
        self.batch_bytes = batch_bytes
        self.integrate_interval_s = integrate_interval_s
        self._queue: queue.Queue[Job] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._dirty = False
        self._last_integrate = 0.0

    # -- the request side -------------------------------------------------------------------

    def submit(self, party: Party, body: bytes, signature: bytes, behaviour: str) -> str:
        """Store a new job durably and queue it; returns its id (the 202 is sent after this)."""
        job = Job(secrets.token_hex(16), party.name, body, signature, behaviour)
        with write_tx(self.ledger.engine) as conn:
            conn.execute(
                sa.insert(capture_job).values(
                    id=job.id,
                    party_id=party.id,
                    created=_now(),
                    behaviour=behaviour,
                    body=body,
                    signature=signature,
                )
            )
        self._queue.put(job)
        return job.id

    def status(self, job_id: str) -> dict[str, Any]:
        """The job as stored (see :func:`job_document`)."""
        with read_tx(self.ledger.engine) as conn:
            row = conn.execute(sa.select(*_JOB_COLUMNS).where(capture_job.c.id == job_id)).first()
        if row is None:
            raise NotFound(f"no capture job {job_id!r}")
        return job_document(row._mapping)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        with read_tx(self.ledger.engine) as conn:
            rows = conn.execute(
                sa.select(*_JOB_COLUMNS).order_by(capture_job.c.created.desc()).limit(limit)
            ).all()
        return [job_document(r._mapping) for r in rows]

    # -- the worker -------------------------------------------------------------------------

    def start(self) -> None:
        """Queue the jobs a previous process left unfinished, then start the worker."""
        for job in self._unfinished():
            self._queue.put(job)
        self._thread = threading.Thread(target=self._run, name="capture-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = None

    def _unfinished(self) -> list[Job]:
        from dosetrail.store.schema import party

        with read_tx(self.ledger.engine) as conn:
            rows = conn.execute(
                sa.select(
                    capture_job.c.id,
                    party.c.name,
                    capture_job.c.body,
                    capture_job.c.signature,
                    capture_job.c.behaviour,
                )
                .join(party, party.c.id == capture_job.c.party_id)
                .where(capture_job.c.finished.is_(None))
                .order_by(capture_job.c.created, capture_job.c.id)
            ).all()
        return [Job(r.id, r.name, bytes(r.body), bytes(r.signature), r.behaviour) for r in rows]

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take(timeout=0.1)
            try:
                if batch:
                    self.run_batch(batch)
                self._maybe_integrate(force=not batch)
            except Exception:  # the worker must outlive any one failure
                _log.exception("capture worker: batch of %d job(s) failed; retrying", len(batch))
                for job in batch:  # still unfinished in capture_job: try them again
                    self._queue.put(job)
                self._stop.wait(1.0)

    def _take(self, timeout: float) -> list[Job]:
        try:
            first = self._queue.get(timeout=timeout)
        except queue.Empty:
            return []
        batch, size = [first], len(first.body)
        while len(batch) < self.batch_jobs and size < self.batch_bytes:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(job)
            size += len(job.body)
        return batch

    def drain(self) -> None:
        """Run every queued job now, in this thread (tests, and a worker-less server)."""
        while batch := self._take(timeout=0):
            self.run_batch(batch)
        self._maybe_integrate(force=True)

    def run_batch(self, batch: list[Job]) -> None:
        """Capture ``batch`` in one transaction and record each job's outcome."""
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                outcomes = self._capture(batch)
                self._finish(batch, outcomes)
                self._dirty = True
                return
            except StorageError as e:
                _log.warning("capture batch failed (attempt %d): %s", attempt, e)
                time.sleep(min(2.0, 0.1 * 2**attempt))
        self._finish(batch, [StorageError("the ledger could not store the capture")] * len(batch))

    def _capture(self, batch: list[Job]) -> list[CaptureResult | DosetrailError]:
        requests = [
            CaptureRequest(
                j.body,
                j.party,
                name=f"capture/{j.id}",
                signature=j.signature,
                proceed=j.behaviour == "proceed",
            )
            for j in batch
        ]
        try:
            return self.ledger.capture_batch(requests)
        except DosetrailError:
            raise
        except sa.exc.SQLAlchemyError as e:
            raise StorageError(f"cannot store captures: {e}") from e
        except Exception:
            if len(batch) == 1:
                _log.exception("capture job %s failed", batch[0].id)
                return [DosetrailError("the server failed to process this capture")]
            # One document broke the batch: run them one by one, so only it fails.
            return [self._capture([job])[0] for job in batch]

    def _finish(self, batch: list[Job], outcomes: list[CaptureResult | DosetrailError]) -> None:
        now = _now()
        try:
            with write_tx(self.ledger.engine) as conn:
                for job, outcome in zip(batch, outcomes, strict=True):
                    success, result = _result(job, outcome)
                    conn.execute(
                        sa.update(capture_job)
                        .where(capture_job.c.id == job.id)
                        .values(finished=now, success=success, result=result, body=None)
                    )
        except sa.exc.SQLAlchemyError as e:
            raise StorageError(f"cannot record capture jobs: {e}") from e

    def _maybe_integrate(self, *, force: bool) -> None:
        if not self._dirty:
            return
        elapsed = time.monotonic() - self._last_integrate
        if not force and elapsed < self.integrate_interval_s:
            return
        try:
            self.ledger.integrate()
            self._dirty = False
        except DosetrailError as e:
            _log.warning("cannot integrate the log: %s", e)
        self._last_integrate = time.monotonic()

    def mark_dirty(self) -> None:
        """Something was captured outside the queue (``POST /events``): integrate soon."""
        self._dirty = True


def _result(job: Job, outcome: CaptureResult | DosetrailError) -> tuple[bool, str]:
    if isinstance(outcome, DosetrailError):
        return False, orjson.dumps({"errors": problem_list(outcome)}).decode()
    errors = []
    if outcome.rejected:
        rejected = InvalidDocument("events rejected", problems=outcome.rejected)
        errors = problem_list(rejected, "Event rejected (not stored)")
    stored = {
        "captureDigest": outcome.capture_id,
        "captureLogIndex": outcome.log_index,
        "eventCount": outcome.events,
        "storedCount": outcome.stored,
        "alreadyCaptured": outcome.already_captured,
        "eventLogIndices": _ranges(outcome.event_log_indices),
        "duplicates": [{"index": i, "eventID": h} for i, h in outcome.duplicates],
    }
    return not errors, orjson.dumps({"errors": errors, "captured": stored}).decode()


def _ranges(indices: tuple[int, ...]) -> list[list[int]]:
    """Contiguous runs ``[first, last]`` (a capture's event entries are one run)."""
    out: list[list[int]] = []
    for i in indices:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def job_document(row: Any) -> dict[str, Any]:
    """The GS1 ``CaptureJob`` object (EPCIS 2.0 OpenAPI), plus what dosetrail stored."""
    result = orjson.loads(row["result"]) if row["result"] else {}
    doc: dict[str, Any] = {
        "captureID": row["id"],
        "createdAt": _iso(int(row["created"])),
        "running": row["finished"] is None,
        "success": True if row["success"] is None else bool(row["success"]),
        "captureErrorBehaviour": row["behaviour"],
        "errors": result.get("errors", []),
    }
    if row["finished"] is not None:
        doc["finishedAt"] = _iso(int(row["finished"]))
    if "captured" in result:
        doc["captured"] = result["captured"]
    return doc


def _now() -> int:
    return time.time_ns() // 1000


def _iso(micros: int) -> str:
    from dosetrail.epcis.timestamps import from_micros

    stamp = from_micros(micros)
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z"
