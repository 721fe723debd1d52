"""Issue the certificate and write the bundle (the certifier's last steps).

:func:`issue_certificate` judges every sampled unit from its observation, computes the
statistics, signs the statement as the monitor and logs it. :func:`write_certificate_bundle`
then has a later checkpoint cosigned (it covers observations, the nonce reveal and the
certificate) and writes the bundle with every proof against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from dosetrail.certify import bundle as b
from dosetrail.certify._ledger import append_entry, signer_of
from dosetrail.certify.certificate import (
    ObservedEvent,
    certificate_body,
    encode_certificate,
    evaluate,
)
from dosetrail.certify.checkpoints import cosigned_checkpoint
from dosetrail.certify.entries import certificate_entry, sha256_ref
from dosetrail.certify.html import render_html
from dosetrail.certify.ledgerdata import (
    EventEvidence,
    doses_shipped,
    event_evidence,
    open_findings,
)
from dosetrail.certify.outcomes import claim_of, observation_of
from dosetrail.certify.plan import load_plan
from dosetrail.certify.state import PeriodState
from dosetrail.epcis import hash_id
from dosetrail.errors import Conflict
from dosetrail.log.note import parse_note
from dosetrail.log.reader import LogReader
from dosetrail.log.witness import Witness
from dosetrail.store.engine import read_tx
from dosetrail.store.ledger import Ledger
from dosetrail.store.schema import capture, event

__all__ = ["Issued", "issue_certificate", "write_certificate_bundle"]


@dataclass(frozen=True)
class Issued:
    certificate: dict[str, Any]
    log_index: int


def _observation_events(ledger: Ledger, captures: Sequence[int]) -> list[int]:
    if not captures:
        return []
    with read_tx(ledger.engine) as conn:
        return [
            int(i)
            for i in conn.execute(
                sa.select(event.c.log_index)
                .join(capture, capture.c.id == event.c.capture_id)
                .where(capture.c.id.in_(list(captures)))
                .order_by(event.c.log_index)
            ).scalars()
        ]


def _record(e: EventEvidence) -> b.EventRecord:
    return b.EventRecord(e.log_index, e.event, e.capture_proof)


def issue_certificate(
    ledger: Ledger,
    programme: str,
    period: str,
    *,
    certifier: str = "monitor",
    issued: str | None = None,
) -> Issued:
    """Judge the sample, sign the certificate as ``certifier`` (a monitor) and log it."""
    state = PeriodState.open(ledger.home, programme, period)
    if state.get("certificate") is not None:
        raise Conflict(f"{programme}/{period}: the certificate is already issued")
    plan = load_plan(ledger, programme, period)
    signer = signer_of(ledger, certifier, "monitor")
    obs_indices = [
        i
        for i in _observation_events(ledger, state.get("observations") or [])
        if i > plan.reveal_index
    ]
    with read_tx(ledger.engine) as conn:
        units = event_evidence(conn, plan.sample.first_draw)
        observed_ev = event_evidence(conn, obs_indices)
        shipped = doses_shipped(conn, below=plan.sampling.size)
        findings = open_findings(conn)
    claims = {
        e.log_index: (hash_id(e.event, e.prefixes), claim_of(e.event, e.prefixes)) for e in units
    }
    observed = []
    by_index = {e.log_index: e for e in observed_ev}
    for e in observed_ev:
        obs = observation_of(e.event, e.prefixes)
        if obs is not None:
            observed.append(ObservedEvent(e.log_index, hash_id(e.event, e.prefixes), obs))
    evaluation = evaluate(plan.frame, plan.sample, claims, observed, strict=False)
    records = [_record(e) for e in units] + [
        _record(by_index[o.log_index]) for o in evaluation.used
    ]
    events = b.encode_events(records)
    body = certificate_body(
        programme=programme,
        period=period,
        issued=issued or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        certifier=f"{signer.name}+{signer.key_hash:08x}",
        sampling=plan.sampling,
        frame=plan.frame,
        frame_index=plan.frame_index,
        frame_sha256=sha256_ref(plan.frame.encode()),
        commit_index=plan.commit_index,
        reveal_index=plan.reveal_index,
        nonce=plan.nonce,
        evaluation=evaluation,
        events_sha256=sha256_ref(events),
        doses_shipped=shipped,
        findings=findings,
    )
    data = encode_certificate(body)
    signed = certificate_entry(data, signer)
    index = append_entry(ledger, signed.entry)
    _, sigs = parse_note(signed.note)
    state.write("certificate.json", data + b"\n")
    state.write("certificate.sig", "".join(s.line() for s in sigs).encode())
    state.write("events.jsonl", events)
    state.set("certificate", index)
    return Issued(body, index)


def write_certificate_bundle(
    ledger: Ledger,
    programme: str,
    period: str,
    out: Path,
    witnesses: Sequence[Witness],
) -> int:
    """Cosign an evidence checkpoint and write the bundle to ``out``; its size in bytes."""
    state = PeriodState.open(ledger.home, programme, period)
    cert_index = state.need("certificate", "`dosetrail certify`")
    plan = load_plan(ledger, programme, period)
    certificate = state.read("certificate.json", "`dosetrail certify`")
    events_data = state.read("events.jsonl", "`dosetrail certify`")
    records = b.decode_events(events_data)
    cp, note = cosigned_checkpoint(ledger, witnesses)
    reader = LogReader(ledger.engine)
    with read_tx(ledger.engine) as conn:
        captures = {
            int(r.log_index): int(r.capture_index)
            for r in conn.execute(
                sa.select(event.c.log_index, capture.c.id.label("capture_index"))
                .join(capture, capture.c.id == event.c.capture_id)
                .where(event.c.log_index.in_([r.index for r in records]))
            )
        }
    fixed = [plan.commit_index, plan.reveal_index, plan.frame_index, cert_index]
    indices = sorted({*(r.index for r in records), *captures.values(), *fixed})
    entries = [
        b.EntryRecord(i, reader.entry(i), reader.inclusion_proof(i, cp.size)) for i in indices
    ]
    members = {
        b.CERTIFICATE: certificate,
        b.SIGNATURE: state.read("certificate.sig", "`dosetrail certify`"),
        b.HTML: render_html(orjson.loads(certificate)),
        b.SAMPLING: plan.sampling_note,
        b.EVIDENCE: note,
        b.CONSISTENCY: b.encode_consistency(reader.consistency_proof(plan.sampling.size, cp.size)),
        b.FRAME: plan.frame.encode(),
        b.SAMPLE: plan.sample.encode(),
        b.EVENTS: events_data,
        b.ENTRIES: b.encode_entries(entries),
    }
    return b.write_bundle(out, members)
