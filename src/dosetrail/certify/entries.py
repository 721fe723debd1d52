"""Signed log entries of certification: donor nonce, frame commitment, certificate.

Each is a C2SP signed note whose text is a fixed list of lines, signed by one party with
:func:`~dosetrail.log.note.sign_note`, and logged as RFC 8785 JSON holding the same fields plus
``party`` (``<name>+<key hash>``) and ``signature`` (the base64 of the note's signature line), like
the ledger's ``capture`` entries. A verifier rebuilds the note text from the entry and checks the
signature with the party's trusted key.

=================  ==============================================================================
``nonce-commit``   ``dosetrail-nonce-commit/v1``, programme, period, ``sha256:<hex>`` of the nonce
``nonce-reveal``   ``dosetrail-nonce-reveal/v1``, programme, period, nonce (64 hex), and the
                   sampling checkpoint it is revealed for: origin, size, base64 root
``frame``          ``dosetrail-frame/v1``, programme, period, ``sha256:<hex of frame.jsonl>``
``certificate``    the certificate's RFC 8785 JSON (one line) is the note text itself
=================  ==============================================================================
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import rfc8785

from dosetrail.errors import IntegrityError
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.note import Signer, Verifier, open_note, parse_note, sign_note

__all__ = [
    "CERTIFICATE",
    "FRAME",
    "NONCE_COMMIT",
    "NONCE_REVEAL",
    "SignedEntry",
    "certificate_entry",
    "frame_entry",
    "nonce_commit_entry",
    "nonce_reveal_entry",
    "note_text",
    "parse_entry",
    "sha256_ref",
]

NONCE_COMMIT = "nonce-commit"
NONCE_REVEAL = "nonce-reveal"
FRAME = "frame"
CERTIFICATE = "certificate"


def sha256_ref(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedEntry:
    """A log entry (RFC 8785 bytes) and the signed note it carries the signature of."""

    entry: bytes
    note: bytes


def _signed(kind: str, fields: dict[str, Any], text: str, signer: Signer) -> SignedEntry:
    note = sign_note(text, [signer])
    sig = parse_note(note)[1][0]
    b64 = base64.b64encode(sig.key_hash.to_bytes(4, "big") + sig.signature).decode()
    entry = {
        "kind": kind,
        **fields,
        "party": f"{signer.name}+{signer.key_hash:08x}",
        "signature": b64,
    }
    return SignedEntry(rfc8785.dumps(entry), note)


def nonce_commit_entry(programme: str, period: str, nonce: bytes, donor: Signer) -> SignedEntry:
    commitment = sha256_ref(nonce)
    fields = {"programme": programme, "period": period, "commitment": commitment}
    return _signed(NONCE_COMMIT, fields, note_text(NONCE_COMMIT, fields), donor)


def nonce_reveal_entry(
    programme: str, period: str, nonce: bytes, checkpoint: Checkpoint, donor: Signer
) -> SignedEntry:
    fields = {
        "programme": programme,
        "period": period,
        "nonce": nonce.hex(),
        "checkpoint": _checkpoint_json(checkpoint),
    }
    return _signed(NONCE_REVEAL, fields, note_text(NONCE_REVEAL, fields), donor)


def frame_entry(programme: str, period: str, frame: bytes, certifier: Signer) -> SignedEntry:
    fields = {"programme": programme, "period": period, "frame": sha256_ref(frame)}
    return _signed(FRAME, fields, note_text(FRAME, fields), certifier)


def certificate_entry(certificate: bytes, certifier: Signer) -> SignedEntry:
    """``certificate`` is the RFC 8785 JSON of the statement; its note text is it plus ``\\n``."""
    body = orjson.loads(certificate)
    fields = {
        "programme": body["programme"],
        "period": body["period"],
        "certificate": sha256_ref(certificate),
    }
    text = certificate.decode() + "\n"
    return _signed(CERTIFICATE, fields, text, certifier)


def _checkpoint_json(cp: Checkpoint) -> dict[str, Any]:
    return {"origin": cp.origin, "size": cp.size, "root": base64.b64encode(cp.root).decode()}


def note_text(kind: str, entry: dict[str, Any]) -> str:
    """The signed text of a nonce or frame entry, rebuilt from its fields."""
    try:
        lines = [f"dosetrail-{kind}/v1", str(entry["programme"]), str(entry["period"])]
        if kind == NONCE_COMMIT:
            lines.append(str(entry["commitment"]))
        elif kind == NONCE_REVEAL:
            cp = entry["checkpoint"]
            lines += [str(entry["nonce"]), str(cp["origin"]), str(cp["size"]), str(cp["root"])]
        elif kind == FRAME:
            lines.append(str(entry["frame"]))
        else:
            raise IntegrityError(f"log entry kind {kind!r} has no note text")
    except (KeyError, TypeError) as e:
        raise IntegrityError(f"{kind} entry is missing field {e}") from e
    return "".join(line + "\n" for line in lines)


_FIELDS = {
    NONCE_COMMIT: {"kind", "programme", "period", "commitment", "party", "signature"},
    NONCE_REVEAL: {"kind", "programme", "period", "nonce", "checkpoint", "party", "signature"},
    FRAME: {"kind", "programme", "period", "frame", "party", "signature"},
    CERTIFICATE: {"kind", "programme", "period", "certificate", "party", "signature"},
}


def parse_entry(data: bytes, kind: str) -> dict[str, Any]:
    """A logged entry of ``kind``: canonical JSON with exactly its fields."""
    try:
        entry = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise IntegrityError(f"{kind} log entry is not JSON") from e
    if not isinstance(entry, dict) or rfc8785.dumps(entry) != data:
        raise IntegrityError(f"{kind} log entry is not RFC 8785 canonical JSON")
    if entry.get("kind") != kind:
        raise IntegrityError(f"log entry is a {entry.get('kind')!r}, expected a {kind}")
    if set(entry) != _FIELDS[kind]:
        raise IntegrityError(f"{kind} log entry has fields {sorted(entry)}")
    return entry


def open_entry(text: str, entry: dict[str, Any], verifiers: Sequence[Verifier]) -> Verifier:
    """Check the entry's signature over ``text``; return the verifier (key) that signed it."""
    party = str(entry["party"])
    name = party.rsplit("+", 1)[0]
    note = f"{text}\n— {name} {entry['signature']}\n".encode()
    candidates = [v for v in verifiers if f"{v.name}+{v.key_hash:08x}" == party]
    if not candidates:
        raise IntegrityError(f"{entry['kind']} entry is signed by {party}, not a trusted key")
    open_note(note, candidates)
    return candidates[0]
