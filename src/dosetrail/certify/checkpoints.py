"""Checkpoints the certificate stands on, cosigned by witnesses, and how a verifier opens them.

:func:`cosigned_checkpoint` integrates the log, signs a checkpoint and has each witness cosign
it through the C2SP tlog-witness ``add-checkpoint`` checks (consistency with what that witness
cosigned before). The result is the checkpoint note with every cosignature line appended.

:func:`open_cosigned` is the verifier's side: every signature line must verify — the log's key
and trusted witnesses only (a bundle carries no signature the verifier cannot check) — and at
least ``quorum`` distinct witnesses must have cosigned.
"""

from __future__ import annotations

from collections.abc import Sequence

from dosetrail.certify.trust import Trust
from dosetrail.errors import Conflict, IntegrityError
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.cosignature import Cosigner
from dosetrail.log.note import NoteVerifier, Signer, open_note
from dosetrail.log.reader import LogReader
from dosetrail.log.witness import AddCheckpointRequest, Witness
from dosetrail.store.ledger import Ledger
from dosetrail.store.parties import key_path

__all__ = ["cosigned_checkpoint", "local_witnesses", "open_cosigned"]


def local_witnesses(ledger: Ledger, names: Sequence[str] | None = None) -> list[Witness]:
    """Witnesses whose keys this home holds: registered parties with role ``witness`` (or the
    given names), each with its state in ``DOSETRAIL_HOME/witness/<name>``."""
    chosen = names
    if chosen is None:
        chosen = [p.name for p in ledger.parties() if p.role == "witness"]
    out = []
    for name in chosen:
        path = key_path(ledger.home.keys_dir, name)
        if not path.exists():
            if names is not None:
                raise Conflict(f"no key for witness {name!r} in {ledger.home.keys_dir}")
            continue
        state = ledger.home.root / "witness" / name
        state.mkdir(parents=True, exist_ok=True)
        out.append(Witness(state, Cosigner(Signer.load(path))))
    return out


def cosigned_checkpoint(ledger: Ledger, witnesses: Sequence[Witness]) -> tuple[Checkpoint, bytes]:
    """Integrate, sign a checkpoint and collect every witness's cosignature on it."""
    cp = ledger.integrate()
    reader = LogReader(ledger.engine)
    note = reader.checkpoint()
    lines = []
    for w in witnesses:
        latest = w.latest(cp.origin)
        old = latest[0].size if latest is not None else 0
        if old > cp.size:
            raise Conflict(f"witness {w.cosigner.name} has cosigned size {old} > {cp.size}")
        proof = reader.consistency_proof(old, cp.size) if 0 < old < cp.size else []
        request = AddCheckpointRequest(old, tuple(proof), note)
        lines.append(w.add_checkpoint(request, ledger.operator.verifier_key).line())
    return cp, note + "".join(lines).encode()


def open_cosigned(data: bytes, trust: Trust, what: str) -> tuple[Checkpoint, int]:
    """Open a cosigned checkpoint strictly; return it and the number of witness cosignatures."""
    verifiers: list[NoteVerifier] = [trust.log, *trust.witnesses]
    try:
        note = open_note(data, verifiers)
    except IntegrityError as e:
        raise IntegrityError(f"{what} checkpoint: {e.message}") from e
    if note.unverified_sigs:
        names = ", ".join(sorted({s.name for s in note.unverified_sigs}))
        raise IntegrityError(
            f"{what} checkpoint: signature by a key not in the trust file ({names})"
        )
    log_id = (trust.log.name, trust.log.key_hash)
    if not any((s.name, s.key_hash) == log_id for s in note.sigs):
        raise IntegrityError(f"{what} checkpoint: not signed by the trusted log key")
    witness_ids = {(w.name, w.key_hash) for w in trust.witnesses}
    cosigned = {(s.name, s.key_hash) for s in note.sigs} & witness_ids
    if len(cosigned) < trust.quorum:
        raise IntegrityError(
            f"{what} checkpoint: {len(cosigned)} witness cosignatures, {trust.quorum} required"
        )
    try:
        cp = Checkpoint.parse(note.text)
    except IntegrityError as e:
        raise IntegrityError(f"{what} checkpoint: {e.message}") from e
    if cp.origin != trust.log.name:
        raise IntegrityError(f"{what} checkpoint: origin {cp.origin!r} is not the trusted log's")
    return cp, len(cosigned)
