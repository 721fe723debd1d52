"""The offline bundle: one zip file with everything ``dosetrail verify`` needs.

=============================  ==================================================================
``manifest.json``              RFC 8785: format and every other member's name, size, SHA-256
``certificate.json``           the statement (RFC 8785 JSON, then ``\\n``) …
``certificate.sig``            … and its signature line(s): together the signed note
``certificate.html``           the human certificate, exactly as rendered from the statement
``checkpoints/sampling.txt``   the sampling checkpoint with witness cosignatures (C2SP)
``checkpoints/evidence.txt``   a later cosigned checkpoint covering observations and certificate
``checkpoints/consistency.json``  RFC 9162 proof that the first is a prefix of the second
``frame.jsonl``                the sampling frame committed before the sampling checkpoint
``sample.json``                the draws (recomputed by the verifier)
``evidence/events.jsonl``      one line per relied-on event (sampled claims, observations):
                               ``{"captureProof": [...], "event": {standalone JSON-LD},
                               "index": <log index>}``, sorted by index
``evidence/entries.jsonl``     one line per relied-on log entry: ``{"entry": "<entry JSON>",
                               "index": n, "proof": [base64 hashes]}`` (inclusion under the
                               evidence checkpoint), sorted by index
=============================  ==================================================================

JSON lines are written with sorted keys and no spaces, and the reader requires exactly that form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import rfc8785

from dosetrail.certify._zip import read_zip, write_zip
from dosetrail.errors import IntegrityError, StorageError

__all__ = [
    "BUNDLE_FORMAT",
    "MEMBERS",
    "EntryRecord",
    "EventRecord",
    "decode_entries",
    "decode_events",
    "encode_entries",
    "encode_events",
    "open_bundle",
    "write_bundle",
]

BUNDLE_FORMAT = "dosetrail-bundle/v1"
MANIFEST = "manifest.json"
CERTIFICATE = "certificate.json"
SIGNATURE = "certificate.sig"
HTML = "certificate.html"
SAMPLING = "checkpoints/sampling.txt"
EVIDENCE = "checkpoints/evidence.txt"
CONSISTENCY = "checkpoints/consistency.json"
FRAME = "frame.jsonl"
SAMPLE = "sample.json"
EVENTS = "evidence/events.jsonl"
ENTRIES = "evidence/entries.jsonl"
MEMBERS = (
    CERTIFICATE,
    SIGNATURE,
    HTML,
    SAMPLING,
    EVIDENCE,
    CONSISTENCY,
    FRAME,
    SAMPLE,
    EVENTS,
    ENTRIES,
)
_SORTED = orjson.OPT_SORT_KEYS


def _b64(hashes: Iterable[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _unb64(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise IntegrityError(f"{what}: not a list of base64 hashes")
    try:
        out = [base64.b64decode(v, validate=True) for v in values]
    except binascii.Error as e:
        raise IntegrityError(f"{what}: not base64") from e
    if any(len(h) != 32 for h in out):
        raise IntegrityError(f"{what}: a hash is not 32 bytes")
    return out


def _lines(data: bytes, member: str) -> list[dict[str, Any]]:
    if data and not data.endswith(b"\n"):
        raise IntegrityError(f"{member}: does not end with a newline")
    out = []
    for n, line in enumerate(data.split(b"\n")[:-1], start=1):
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            raise IntegrityError(f"{member} line {n}: not JSON ({e})") from e
        if not isinstance(value, dict) or orjson.dumps(value, option=_SORTED) != line:
            raise IntegrityError(f"{member} line {n}: not a canonical JSON object")
        out.append(value)
    return out


@dataclass(frozen=True, slots=True)
class EventRecord:
    index: int
    event: dict[str, Any]
    capture_proof: list[bytes]

    def encode(self) -> bytes:
        return orjson.dumps(
            {"captureProof": _b64(self.capture_proof), "event": self.event, "index": self.index},
            option=_SORTED,
        )


@dataclass(frozen=True, slots=True)
class EntryRecord:
    index: int
    entry: bytes
    proof: list[bytes]

    def encode(self) -> bytes:
        return orjson.dumps(
            {"entry": self.entry.decode(), "index": self.index, "proof": _b64(self.proof)},
            option=_SORTED,
        )


def encode_events(records: Iterable[EventRecord]) -> bytes:
    return b"".join(r.encode() + b"\n" for r in sorted(records, key=lambda r: r.index))


def encode_entries(records: Iterable[EntryRecord]) -> bytes:
    return b"".join(r.encode() + b"\n" for r in sorted(records, key=lambda r: r.index))


def _index(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise IntegrityError(f"{what}: index is not a non-negative integer")
    return value


def decode_events(data: bytes) -> list[EventRecord]:
    out: list[EventRecord] = []
    for n, obj in enumerate(_lines(data, EVENTS), start=1):
        what = f"{EVENTS} line {n}"
        if set(obj) != {"captureProof", "event", "index"} or not isinstance(obj["event"], dict):
            raise IntegrityError(f"{what}: expected captureProof, event and index")
        out.append(
            EventRecord(_index(obj["index"], what), obj["event"], _unb64(obj["captureProof"], what))
        )
    _increasing([r.index for r in out], EVENTS)
    return out


def decode_entries(data: bytes) -> list[EntryRecord]:
    out: list[EntryRecord] = []
    for n, obj in enumerate(_lines(data, ENTRIES), start=1):
        what = f"{ENTRIES} line {n}"
        if set(obj) != {"entry", "index", "proof"} or not isinstance(obj["entry"], str):
            raise IntegrityError(f"{what}: expected entry, index and proof")
        out.append(
            EntryRecord(
                _index(obj["index"], what), obj["entry"].encode(), _unb64(obj["proof"], what)
            )
        )
    _increasing([r.index for r in out], ENTRIES)
    return out


def _increasing(indices: list[int], member: str) -> None:
    if any(a >= b for a, b in itertools.pairwise(indices)):
        raise IntegrityError(f"{member}: log indices are not strictly increasing")


def encode_consistency(proof: Iterable[bytes]) -> bytes:
    return orjson.dumps({"proof": _b64(proof)}, option=_SORTED) + b"\n"


def decode_consistency(data: bytes) -> list[bytes]:
    lines = _lines(data, CONSISTENCY)
    if len(lines) != 1 or set(lines[0]) != {"proof"}:
        raise IntegrityError(f"{CONSISTENCY}: expected one line with a proof")
    return _unb64(lines[0]["proof"], CONSISTENCY)


def _manifest(members: dict[str, bytes]) -> bytes:
    listed: list[Any] = [
        {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in members.items()
    ]
    return bytes(rfc8785.dumps({"format": BUNDLE_FORMAT, "members": listed})) + b"\n"


def write_bundle(path: Path, members: dict[str, bytes]) -> int:
    """Write the bundle (members in :data:`MEMBERS` order, manifest first); its size in bytes."""
    if set(members) != set(MEMBERS):
        raise ValueError(f"a bundle has exactly the members {MEMBERS}")
    ordered = {name: members[name] for name in MEMBERS}
    data = write_zip([(MANIFEST, _manifest(ordered)), *ordered.items()])
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as e:
        raise StorageError(f"cannot write {path}: {e}") from e
    return len(data)


def open_bundle(data: bytes) -> dict[str, bytes]:
    """The members of a bundle after the container and manifest checks."""
    members = read_zip(data)
    names = list(members)
    if names != [MANIFEST, *MEMBERS]:
        raise IntegrityError(f"bundle: members are {names}, expected {[MANIFEST, *MEMBERS]}")
    manifest = members.pop(MANIFEST)
    if manifest != _manifest(members):
        try:
            listed = orjson.loads(manifest)["members"]
            by_name = {m["name"]: m["sha256"] for m in listed}
        except (orjson.JSONDecodeError, KeyError, TypeError) as e:
            raise IntegrityError("bundle: manifest.json is damaged") from e
        for name, content in members.items():
            if by_name.get(name) != hashlib.sha256(content).hexdigest():
                raise IntegrityError(f"bundle: {name} does not match its SHA-256 in the manifest")
        raise IntegrityError("bundle: manifest.json is not in canonical form")
    return members
