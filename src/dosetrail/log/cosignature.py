"""C2SP ``tlog-cosignature`` (cosignature/v1, Ed25519) — a witness's statement on a checkpoint.

* key ID: ``SHA-256(name ‖ "\\n" ‖ 0x04 ‖ 32-byte Ed25519 public key)[:4]``
* signature: ``timestamped_signature`` = big-endian u64 POSIX timestamp ‖ 64-byte Ed25519
  signature
* signed message: ``cosignature/v1\\ntime <timestamp>\\n`` followed by the whole checkpoint body

A cosigner's verifier key may be given as a 0x04 vkey or as its plain Ed25519 (0x01) note key.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from dosetrail.errors import MalformedInput
from dosetrail.log.note import (
    ALG_ED25519,
    Signature,
    Signer,
    Verifier,
    format_verifier_key,
    key_hash,
    parse_verifier_key,
)

__all__ = [
    "ALG_COSIGNATURE_V1",
    "CosignatureVerifier",
    "Cosigner",
    "cosignature_message",
    "cosignature_timestamp",
]

ALG_COSIGNATURE_V1 = 0x04
_MAX_TIMESTAMP = 2**63 - 1


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The bytes an Ed25519 cosignature/v1 signs for checkpoint ``body`` at ``timestamp``."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise MalformedInput(f"cosignature timestamp {timestamp} out of range")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosignature_timestamp(signature: Signature) -> int:
    """The timestamp carried in a cosignature/v1 signature line."""
    if len(signature.signature) != 8 + 64:
        raise MalformedInput(f"signature by {signature.name} is not a cosignature/v1")
    (ts,) = struct.unpack(">Q", signature.signature[:8])
    return int(ts)


class Cosigner:
    """Signs checkpoints as a cosigner (witness), with an Ed25519 note key.

    Implements :class:`~dosetrail.log.note.NoteSigner` for one checkpoint body at a time via
    :meth:`cosign`; the timestamp is fixed per call so the signature line is reproducible.
    """

    def __init__(self, signer: Signer) -> None:
        self._signer = signer
        self._key_hash = key_hash(signer.name, ALG_COSIGNATURE_V1, signer.public_key)

    @property
    def name(self) -> str:
        return self._signer.name

    @property
    def key_hash(self) -> int:
        return self._key_hash

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self._signer.public_key, self._key_hash)

    @property
    def verifier_key(self) -> str:
        return self.verifier.verifier_key

    def cosign(self, body: str, timestamp: int) -> Signature:
        """The cosignature of checkpoint ``body`` (its note text) at POSIX ``timestamp``."""
        sig = self._signer.sign(cosignature_message(body, timestamp))
        return Signature(self.name, self._key_hash, struct.pack(">Q", timestamp) + sig)


@dataclass(frozen=True, slots=True)
class CosignatureVerifier:
    """Checks cosignature/v1 signatures (a :class:`~dosetrail.log.note.NoteVerifier`)."""

    name: str
    public_key: bytes
    key_hash: int

    @classmethod
    def from_key(cls, vkey: str) -> CosignatureVerifier:
        """From a 0x04 cosigner vkey, or the cosigner's plain Ed25519 (0x01) note vkey."""
        name, alg, key = parse_verifier_key(vkey.strip())
        if alg not in (ALG_COSIGNATURE_V1, ALG_ED25519) or len(key) != 32:
            raise MalformedInput(f"verifier key {name!r} is not an Ed25519 cosigner key")
        return cls(name, key, key_hash(name, ALG_COSIGNATURE_V1, key))

    @property
    def verifier_key(self) -> str:
        return format_verifier_key(self.name, self.key_hash, ALG_COSIGNATURE_V1, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 8 + 64:
            return False
        (ts,) = struct.unpack(">Q", signature[:8])
        if ts > _MAX_TIMESTAMP:
            return False
        message = cosignature_message(text.decode(), ts)
        plain = Verifier(self.name, self.public_key, key_hash(self.name, 1, self.public_key))
        return plain.verify(message, signature[8:])
