"""The certifier's steps up to the sample: commit the frame, seal the sampling checkpoint, draw.

Order (each step refuses to run out of order, see ``docs/certification.md``)::

    nonce commit (donor)  ─┐
    frame commit (monitor) ┴─► seal: cosigned sampling checkpoint ─► nonce reveal (donor)
        ─► sample = draw(frame, SHA-256(root ‖ nonce)) ─► observations ─► certificate
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from dosetrail.certify._ledger import append_entry, signer_of
from dosetrail.certify.checkpoints import cosigned_checkpoint
from dosetrail.certify.design import DEFAULT_DESIGN, Design
from dosetrail.certify.entries import FRAME, NONCE_REVEAL, frame_entry, parse_entry, sha256_ref
from dosetrail.certify.frame import Frame
from dosetrail.certify.ledgerdata import frame_units
from dosetrail.certify.sampling import Sample, derive_seed, draw_sample
from dosetrail.certify.state import PeriodState
from dosetrail.errors import Conflict, IntegrityError, MalformedInput
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.note import parse_note
from dosetrail.log.reader import LogReader
from dosetrail.log.storage import log_size
from dosetrail.log.witness import Witness
from dosetrail.store.engine import read_tx
from dosetrail.store.ledger import Ledger

__all__ = ["Plan", "commit_frame", "load_plan", "seal"]


def commit_frame(
    ledger: Ledger,
    programme: str,
    period: str,
    *,
    certifier: str = "monitor",
    design: Design = DEFAULT_DESIGN,
    start: int | None = None,
    end: int | None = None,
) -> tuple[Frame, int]:
    """Build the frame from everything logged so far and log its commitment (signed by the
    certifier); ``start``/``end`` (µs) limit sessions and stock counts to the period."""
    state = PeriodState.open(ledger.home, programme, period)
    if state.get("frame") is not None:
        raise Conflict(f"{programme}/{period}: the frame is already committed")
    signer = signer_of(ledger, certifier, "monitor")
    with read_tx(ledger.engine) as conn:
        below = log_size(conn)
        units = frame_units(conn, below=below, start=start, end=end)
    try:
        frame = Frame.build(programme, period, below, design, units)
    except ValueError as e:
        raise MalformedInput(str(e)) from e
    data = frame.encode()
    index = append_entry(ledger, frame_entry(programme, period, data, signer).entry)
    state.write("frame.jsonl", data)
    state.set("frame", index)
    return frame, index


def seal(ledger: Ledger, programme: str, period: str, witnesses: Sequence[Witness]) -> Checkpoint:
    """Sign the sampling checkpoint over the frame and the nonce commitment; have it cosigned."""
    state = PeriodState.open(ledger.home, programme, period)
    state.need("frame", "`dosetrail sample frame`")
    state.need("nonceCommit", "`dosetrail nonce commit`")
    if state.get("sampling") is not None:
        raise Conflict(f"{programme}/{period}: the sampling checkpoint is already sealed")
    cp, note = cosigned_checkpoint(ledger, witnesses)
    state.write("sampling.note", note)
    state.set("sampling", cp.size)
    return cp


@dataclass(frozen=True)
class Plan:
    """Everything the sample depends on, read back and checked against the log."""

    programme: str
    period: str
    frame: Frame
    frame_index: int
    sampling: Checkpoint
    sampling_note: bytes
    commit_index: int
    reveal_index: int
    nonce: bytes
    sample: Sample


def load_plan(ledger: Ledger, programme: str, period: str) -> Plan:
    """The frame, sampling checkpoint, revealed nonce and the sample they give."""
    state = PeriodState.open(ledger.home, programme, period)
    frame_index = state.need("frame", "`dosetrail sample frame`")
    reveal_index = state.need("nonceReveal", "`dosetrail nonce reveal`")
    data = state.read("frame.jsonl", "`dosetrail sample frame`")
    note = state.read("sampling.note", "`dosetrail sample seal`")
    sampling = Checkpoint.parse(parse_note(note)[0])
    reader = LogReader(ledger.engine)
    logged = parse_entry(reader.entry(frame_index), FRAME)
    if logged["frame"] != sha256_ref(data):
        raise IntegrityError(f"{state.path('frame.jsonl')} is not the frame committed in the log")
    reveal = parse_entry(reader.entry(reveal_index), NONCE_REVEAL)
    root = base64.b64encode(sampling.root).decode()
    if reveal["checkpoint"] != {"origin": sampling.origin, "size": sampling.size, "root": root}:
        raise IntegrityError("the nonce was revealed for another checkpoint")
    nonce = bytes.fromhex(str(reveal["nonce"]))
    frame = Frame.decode(data)
    sample = draw_sample(frame, derive_seed(sampling.root, nonce))
    return Plan(
        programme,
        period,
        frame,
        frame_index,
        sampling,
        note,
        int(state.need("nonceCommit", "`dosetrail nonce commit`")),
        reveal_index,
        nonce,
        sample,
    )
