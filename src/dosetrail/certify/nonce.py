"""The donor's nonce: committed in the log before the sampling checkpoint, revealed after it.

Neither party can steer the sample (DESIGN.md, "Certification"): the seed is
``SHA-256(checkpoint root ‖ nonce)``; the operator fixes the root without knowing the nonce
(only its SHA-256 is in the log), and the donor fixed the nonce before the root existed. The
reveal names the cosigned checkpoint it is for, so it cannot be reused for another.
Both entries are signed by the donor's key (:mod:`dosetrail.certify.entries`).
"""

from __future__ import annotations

import hashlib
import secrets

from dosetrail.certify._ledger import append_entry, signer_of
from dosetrail.certify.entries import (
    NONCE_COMMIT,
    nonce_commit_entry,
    nonce_reveal_entry,
    parse_entry,
)
from dosetrail.certify.state import PeriodState
from dosetrail.errors import Conflict, IntegrityError, MalformedInput
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.note import parse_note
from dosetrail.log.reader import LogReader
from dosetrail.store.ledger import Ledger

__all__ = ["commit_nonce", "new_nonce", "parse_nonce", "reveal_nonce"]


def new_nonce() -> bytes:
    return secrets.token_bytes(32)


def parse_nonce(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError as e:
        raise MalformedInput("a nonce is 64 hex digits") from e
    if len(raw) != 32:
        raise MalformedInput("a nonce is 64 hex digits (32 bytes)")
    return raw


def commit_nonce(
    ledger: Ledger, programme: str, period: str, nonce: bytes, donor: str = "donor"
) -> int:
    """Log the donor's commitment ``SHA-256(nonce)``; its log index."""
    state = PeriodState.open(ledger.home, programme, period)
    if state.get("nonceCommit") is not None:
        raise Conflict(f"{programme}/{period}: the nonce is already committed")
    if state.get("sampling") is not None:
        raise Conflict(f"{programme}/{period}: too late, the sampling checkpoint is sealed")
    entry = nonce_commit_entry(programme, period, nonce, signer_of(ledger, donor, "donor"))
    index = append_entry(ledger, entry.entry)
    state.set("nonceCommit", index)
    return index


def reveal_nonce(
    ledger: Ledger, programme: str, period: str, nonce: bytes, donor: str = "donor"
) -> int:
    """Log the nonce for the sealed sampling checkpoint; its log index."""
    state = PeriodState.open(ledger.home, programme, period)
    if state.get("nonceReveal") is not None:
        raise Conflict(f"{programme}/{period}: the nonce is already revealed")
    commit_index = state.need("nonceCommit", "`dosetrail nonce commit`")
    sampling = Checkpoint.parse(
        parse_note(state.read("sampling.note", "`dosetrail sample seal`"))[0]
    )
    committed = parse_entry(LogReader(ledger.engine).entry(commit_index), NONCE_COMMIT)
    if committed["commitment"] != "sha256:" + hashlib.sha256(nonce).hexdigest():
        raise IntegrityError("this nonce does not match the commitment in the log")
    if commit_index >= sampling.size:
        raise IntegrityError("the commitment is not under the sampling checkpoint")
    signer = signer_of(ledger, donor, "donor")
    if committed["party"] != f"{signer.name}+{signer.key_hash:08x}":
        raise Conflict(f"the nonce was committed by {committed['party']}, not {donor}")
    entry = nonce_reveal_entry(programme, period, nonce, sampling, signer)
    index = append_entry(ledger, entry.entry)
    state.set("nonceReveal", index)
    return index
