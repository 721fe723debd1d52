"""C2SP ``signed-note`` with Ed25519: keys, signing and opening notes.

This is dosetrail's one way to sign. Keys use the Go / C2SP note key formats:

* private key ``PRIVATE+KEY+<name>+<8 hex key hash>+<base64(0x01 ‖ 32-byte seed)>``
* verifier key ``<name>+<8 hex key hash>+<base64(0x01 ‖ 32-byte public key)>``
* key hash = the first 4 bytes of ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)``

A note (C2SP signed-note) is UTF-8 text without control characters other than ``\\n``, ending
in ``\\n``; a blank line; then one or more signature lines ``— <name> <base64(key hash ‖ sig)>``.
:func:`open_note` checks every signature from a known key (a bad one is an error), ignores
signatures from unknown keys and demands at least one good signature.

Other signature schemes (e.g. :mod:`dosetrail.log.cosignature`) plug in through the
:class:`NoteSigner` and :class:`NoteVerifier` protocols.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dosetrail.errors import IntegrityError, MalformedInput, NotFound, StorageError

__all__ = [
    "ALG_ED25519",
    "Note",
    "NoteSigner",
    "NoteVerifier",
    "Signature",
    "Signer",
    "Verifier",
    "check_key_name",
    "check_note_text",
    "format_verifier_key",
    "key_hash",
    "open_note",
    "parse_note",
    "parse_verifier_key",
    "sign_note",
]

ALG_ED25519 = 0x01
_SIG_PREFIX = "— "
_MAX_SIGNATURES = 100


def key_hash(name: str, alg: int, public_key: bytes) -> int:
    """C2SP signed-note key ID: ``SHA-256(name ‖ "\\n" ‖ alg ‖ key)[:4]`` as a big-endian int."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def check_key_name(name: str) -> str:
    """A key name is non-empty, has no whitespace and no ``+`` (C2SP signed-note)."""
    if not name or "+" in name or any(c.isspace() for c in name):
        raise MalformedInput(f"invalid key name {name!r}: must be non-empty, no spaces, no '+'")
    return name


def check_note_text(text: str) -> str:
    """Enforce the note body rules: no control characters but ``\\n``, ends with ``\\n``."""
    if not text.endswith("\n"):
        raise MalformedInput("note text must end with a newline")
    bad = next((c for c in text if (ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F), None)
    if bad is not None:
        raise MalformedInput(f"note text contains control character U+{ord(bad):04X}")
    return text


class NoteSigner(Protocol):
    """Anything that signs note text: a name, a 32-bit key hash and ``sign``."""

    @property
    def name(self) -> str: ...

    @property
    def key_hash(self) -> int: ...

    def sign(self, text: bytes) -> bytes: ...


class NoteVerifier(Protocol):
    """Anything that checks a signature over note text for one (name, key hash)."""

    @property
    def name(self) -> str: ...

    @property
    def key_hash(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class Verifier:
    """An Ed25519 note verifier (algorithm 0x01), from a ``name+hash+base64`` verifier key."""

    name: str
    public_key: bytes
    key_hash: int

    @classmethod
    def from_key(cls, vkey: str) -> Verifier:
        name, alg, key = parse_verifier_key(vkey.strip())
        if alg != ALG_ED25519 or len(key) != 32:
            raise MalformedInput(f"verifier key {name!r} is not an Ed25519 (0x01) note key")
        return cls(name, key, key_hash(name, ALG_ED25519, key))

    @property
    def verifier_key(self) -> str:
        return format_verifier_key(self.name, self.key_hash, ALG_ED25519, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    """An Ed25519 note signer. Create with :meth:`generate`, :meth:`from_key` or :meth:`load`."""

    def __init__(self, name: str, seed: bytes) -> None:
        self._name = check_key_name(name)
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed
        self._public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._key_hash = key_hash(name, ALG_ED25519, self._public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, os.urandom(32))

    @classmethod
    def from_key(cls, skey: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>``; check the key hash."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise MalformedInput("not a private note key (PRIVATE+KEY+name+hash+key)")
        _, _, name, hash_hex, b64 = parts
        raw = _b64decode(b64, "private key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise MalformedInput(f"private key {name!r} is not an Ed25519 (0x01) note key")
        signer = cls(name, raw[1:])
        if _parse_hash(hash_hex) != signer.key_hash:
            raise MalformedInput(f"private key {name!r}: key hash does not match the key")
        return signer

    @classmethod
    def load(cls, path: Path) -> Signer:
        try:
            return cls.from_key(path.read_text(encoding="ascii"))
        except FileNotFoundError as e:
            raise NotFound(f"no key file {path}") from e
        except (OSError, UnicodeDecodeError) as e:
            raise StorageError(f"cannot read key file {path}: {e}") from e

    def save(self, path: Path) -> None:
        """Write the private key to ``path`` (mode 0600), refusing to overwrite a file."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(self.private_key + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise StorageError(f"cannot write key file {path}: {e}") from e

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_hash(self) -> int:
        return self._key_hash

    @property
    def public_key(self) -> bytes:
        return self._public

    @property
    def private_key(self) -> str:
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self._seed).decode()
        return f"PRIVATE+KEY+{self._name}+{self._key_hash:08x}+{b64}"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self._name, self._public, self._key_hash)

    @property
    def verifier_key(self) -> str:
        return self.verifier.verifier_key

    def sign(self, text: bytes) -> bytes:
        return self._private.sign(text)

    def __repr__(self) -> str:
        return f"Signer({self._name!r}, {self._key_hash:08x})"


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note: key name, key hash and the signature bytes."""

    name: str
    key_hash: int
    signature: bytes

    def line(self) -> str:
        blob = struct.pack(">I", self.key_hash) + self.signature
        return f"{_SIG_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """An opened note: its text, the signatures that verified and those from unknown keys."""

    text: str
    sigs: tuple[Signature, ...]
    unverified_sigs: tuple[Signature, ...] = ()

    def encode(self) -> bytes:
        """The note with all its signatures, verified ones first."""
        lines = "".join(s.line() for s in (*self.sigs, *self.unverified_sigs))
        return (self.text + "\n" + lines).encode()


def sign_note(text: str, signers: Iterable[NoteSigner]) -> bytes:
    """Sign ``text`` with every signer; return the encoded note (C2SP signed-note)."""
    check_note_text(text)
    body = text.encode()
    lines = []
    for s in signers:
        check_key_name(s.name)
        lines.append(Signature(s.name, s.key_hash, s.sign(body)).line())
    if not lines:
        raise MalformedInput("a note needs at least one signature")
    return body + b"\n" + "".join(lines).encode()


def parse_note(data: bytes) -> tuple[str, tuple[Signature, ...]]:
    """Split a note into its text and its (unverified) signatures; check the syntax only."""
    try:
        msg = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise IntegrityError(f"note is not valid UTF-8 (byte {e.start})") from e
    bad = next((c for c in msg if ord(c) < 0x20 and c != "\n"), None)
    if bad is not None:
        raise IntegrityError(f"note contains control character U+{ord(bad):04X}")
    split = msg.rfind("\n\n")
    if split < 0:
        raise IntegrityError("note has no blank line before its signatures")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block.endswith("\n"):
        raise IntegrityError("note signature block must end with a newline")
    sigs = []
    for n, line in enumerate(block[:-1].split("\n"), start=1):
        if n > _MAX_SIGNATURES:
            raise IntegrityError(f"note has more than {_MAX_SIGNATURES} signatures")
        sigs.append(_parse_sig_line(line, n))
    return text, tuple(sigs)


def open_note(data: bytes, verifiers: Sequence[NoteVerifier]) -> Note:
    """Open a signed note, checking the signatures of the known ``verifiers``.

    A signature from a known key that does not verify is an :class:`IntegrityError`; signatures
    from unknown keys are kept as ``unverified_sigs``; at least one known signature is required.
    """
    text, sigs = parse_note(data)
    known = {(v.name, v.key_hash): v for v in verifiers}
    good: list[Signature] = []
    unknown: list[Signature] = []
    for sig in sigs:
        v = known.get((sig.name, sig.key_hash))
        if v is None:
            if sig not in unknown:
                unknown.append(sig)
            continue
        if sig in good:
            continue
        if not v.verify(text.encode(), sig.signature):
            raise IntegrityError(f"invalid signature for key {sig.name}+{sig.key_hash:08x}")
        good.append(sig)
    if not good:
        names = ", ".join(f"{v.name}+{v.key_hash:08x}" for v in verifiers) or "none"
        raise IntegrityError(f"note has no signature from a trusted key (trusted: {names})")
    return Note(text, tuple(good), tuple(unknown))


def _parse_sig_line(line: str, n: int) -> Signature:
    if not line.startswith(_SIG_PREFIX):
        raise IntegrityError(f"note signature line {n} does not start with '— '")
    name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    try:
        check_key_name(name)
        blob = base64.b64decode(b64, validate=True)
    except (MalformedInput, binascii.Error) as e:
        raise IntegrityError(f"note signature line {n} is malformed") from e
    if len(blob) < 5:
        raise IntegrityError(f"note signature line {n} is too short")
    return Signature(name, int.from_bytes(blob[:4], "big"), blob[4:])


def parse_verifier_key(vkey: str) -> tuple[str, int, bytes]:
    """Split ``name+hash+base64(alg ‖ key)`` into (name, algorithm byte, key); check the hash."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise MalformedInput(f"verifier key {vkey!r} is not of the form name+hash+base64")
    name, hash_hex, b64 = parts
    check_key_name(name)
    raw = _b64decode(b64, f"verifier key {name!r}")
    if len(raw) < 2:
        raise MalformedInput(f"verifier key {name!r} is too short")
    if _parse_hash(hash_hex) != key_hash(name, raw[0], raw[1:]):
        raise MalformedInput(f"verifier key {name!r}: key hash does not match the key")
    return name, raw[0], raw[1:]


def format_verifier_key(name: str, khash: int, alg: int, key: bytes) -> str:
    """Encode a verifier key as ``name+hash+base64(alg ‖ key)``."""
    return f"{name}+{khash:08x}+{base64.b64encode(bytes([alg]) + key).decode()}"


def _parse_hash(hex8: str) -> int:
    if len(hex8) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hex8):
        raise MalformedInput(f"key hash {hex8!r} is not 8 hex digits")
    return int(hex8, 16)


def _b64decode(b64: str, what: str) -> bytes:
    try:
        return base64.b64decode(b64, validate=True)
    except binascii.Error as e:
        raise MalformedInput(f"{what}: invalid base64") from e
