"""A C2SP tlog-witness: cosign a log's checkpoints only if they extend what it cosigned before.

The witness keeps, per log origin, the last checkpoint it cosigned and the log key it trusted
for that origin (``<state>/logs/<origin, %-quoted>.json``), and its own key in
``<state>/witness.key``. :meth:`Witness.add_checkpoint` implements the C2SP tlog-witness
``add-checkpoint`` checks, atomically under a lock:

* the checkpoint carries a valid signature by the log's key (else :class:`IntegrityError`);
* the request's old size is the size last cosigned (else :class:`Conflict`, as HTTP 409); a
  smaller checkpoint than the last cosigned is a rollback (:class:`Conflict`);
* same size: same root hash, else a fork (:class:`IntegrityError`);
* otherwise the RFC 9162 consistency proof from the old to the new root must verify
  (:class:`IntegrityError`).

Then it records the new checkpoint (durably) and returns its cosignature (C2SP
tlog-cosignature). :class:`AddCheckpointRequest` is the protocol's request body: ``old <size>``,
the proof hashes in base64 one a line, a blank line, then the signed checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dosetrail.errors import Conflict, IntegrityError, MalformedInput, NotFound, StorageError
from dosetrail.log.checkpoint import Checkpoint, open_checkpoint
from dosetrail.log.cosignature import Cosigner
from dosetrail.log.merkle import HASH_SIZE, consistency_proof, verify_consistency
from dosetrail.log.note import Signature, Signer, Verifier, parse_note
from dosetrail.log.tiles import TileHashes, TileSource, source_fetcher

__all__ = ["AddCheckpointRequest", "Witness", "request_from_tiles"]

_MAX_PROOF = 63


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    """The body of a C2SP tlog-witness ``add-checkpoint`` request."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes

    def encode(self) -> bytes:
        lines = [f"old {self.old_size}", *(base64.b64encode(h).decode() for h in self.proof)]
        return ("\n".join(lines) + "\n\n").encode() + self.checkpoint

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpointRequest:
        head, sep, checkpoint = body.partition(b"\n\n")
        if not sep:
            raise MalformedInput("add-checkpoint request: no blank line before the checkpoint")
        lines = head.decode("ascii", errors="replace").split("\n")
        old = lines[0]
        if not old.startswith("old ") or not _is_decimal(old[4:]):
            raise MalformedInput(f"add-checkpoint request line 1: {old!r} is not 'old <size>'")
        if len(lines) - 1 > _MAX_PROOF:
            raise MalformedInput(f"add-checkpoint request has more than {_MAX_PROOF} proof lines")
        proof = []
        for n, line in enumerate(lines[1:], start=2):
            try:
                h = base64.b64decode(line, validate=True)
            except binascii.Error as e:
                raise MalformedInput(f"add-checkpoint request line {n}: not base64") from e
            if len(h) != HASH_SIZE:
                raise MalformedInput(f"add-checkpoint request line {n}: not a 32-byte hash")
            proof.append(h)
        return cls(int(old[4:]), tuple(proof), checkpoint)


def _is_decimal(s: str) -> bool:
    return s.isascii() and s.isdigit() and (s == "0" or s[0] != "0")


def request_from_tiles(source: TileSource, old_size: int) -> AddCheckpointRequest:
    """Build an add-checkpoint request from a tiles log: its checkpoint, proven from ``old_size``.

    The proof comes from the (untrusted) tiles; the witness checks it against both roots.
    """
    checkpoint = source.read("checkpoint")
    cp = Checkpoint.parse(parse_note(checkpoint)[0])
    if old_size > cp.size:
        return AddCheckpointRequest(old_size, (), checkpoint)  # the witness reports the rollback
    hashes = TileHashes(source_fetcher(source), cp.size)
    return AddCheckpointRequest(
        old_size, tuple(consistency_proof(old_size, cp.size, hashes)), checkpoint
    )


class Witness:
    """A witness's key and per-log state in a directory."""

    KEY_FILE = "witness.key"

    def __init__(self, state_dir: Path, cosigner: Cosigner) -> None:
        self.state_dir = state_dir
        self.cosigner = cosigner

    @classmethod
    def init(cls, state_dir: Path, name: str) -> Witness:
        """Create a witness named ``name`` (a new Ed25519 key) in ``state_dir``."""
        path = state_dir / cls.KEY_FILE
        if path.exists():
            raise Conflict(f"a witness key already exists at {path}")
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        Signer.generate(name).save(path)
        return cls.open(state_dir)

    @classmethod
    def open(cls, state_dir: Path) -> Witness:
        path = state_dir / cls.KEY_FILE
        if not path.exists():
            raise NotFound(f"no witness key at {path}: run `dosetrail witness init NAME`")
        return cls(state_dir, Cosigner(Signer.load(path)))

    def latest(self, origin: str) -> tuple[Checkpoint, str] | None:
        """The last checkpoint cosigned for ``origin`` and the log key it was trusted with."""
        path = self._state_path(origin)
        if not path.exists():
            return None
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            note = state["checkpoint"].encode()
            return Checkpoint.parse(parse_note(note)[0]), str(state["log_key"])
        except (OSError, ValueError, KeyError) as e:
            raise StorageError(f"witness state {path} is unreadable: {e}") from e

    def add_checkpoint(
        self, request: AddCheckpointRequest, log_key: str, now: int | None = None
    ) -> Signature:
        """Check ``request`` against the state for its origin; cosign and record it."""
        verifier = Verifier.from_key(log_key)
        signed = open_checkpoint(request.checkpoint, [verifier])
        cp = signed.checkpoint
        with self._lock():
            prior = self.latest(cp.origin)
            if prior is not None and prior[1] != verifier.verifier_key:
                raise Conflict(
                    f"log {cp.origin!r} was witnessed with key {prior[1]}, not {log_key.strip()}"
                )
            old = prior[0] if prior is not None else None
            old_size = old.size if old is not None else 0
            if request.old_size > cp.size:
                raise Conflict(
                    f"checkpoint of size {cp.size} for {cp.origin!r} is smaller than the size "
                    f"{request.old_size} it claims to extend (rollback)"
                )
            if request.old_size != old_size:
                raise Conflict(
                    f"witness last cosigned {cp.origin!r} at size {old_size}, "
                    f"the request extends size {request.old_size}"
                )
            if old is not None:
                try:
                    verify_consistency(old.size, cp.size, old.root, cp.root, request.proof)
                except IntegrityError as e:
                    raise IntegrityError(
                        f"refusing to cosign {cp.origin!r} at size {cp.size}: not consistent "
                        f"with the checkpoint cosigned at size {old.size} ({e.message})"
                    ) from e
            elif request.proof:
                raise IntegrityError("add-checkpoint: the proof must be empty for old size 0")
            self._save(cp.origin, request.checkpoint, verifier.verifier_key)
        return self.cosigner.cosign(cp.body(), int(time.time()) if now is None else now)

    def _state_path(self, origin: str) -> Path:
        return self.state_dir / "logs" / (urllib.parse.quote(origin, safe="") + ".json")

    def _save(self, origin: str, checkpoint: bytes, log_key: str) -> None:
        path = self._state_path(origin)
        tmp = path.with_suffix(".tmp")
        data = json.dumps({"log_key": log_key, "checkpoint": checkpoint.decode()})
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise StorageError(f"cannot record witness state {path}: {e}") from e

    @contextmanager
    def _lock(self) -> Iterator[None]:
        try:
            fd = os.open(self.state_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise StorageError(f"cannot lock witness state {self.state_dir}: {e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
