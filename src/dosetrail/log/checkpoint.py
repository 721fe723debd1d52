"""C2SP ``tlog-checkpoint``: the signed statement of a log's size and root hash.

The checkpoint body is the text of a C2SP signed note::

    <origin>\\n
    <tree size, decimal, no leading zeroes>\\n
    <base64 root hash>\\n
    [extension lines]

Errors name the line that is wrong (line 1 is the origin).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from dosetrail.errors import IntegrityError
from dosetrail.log.merkle import HASH_SIZE
from dosetrail.log.note import Note, NoteSigner, NoteVerifier, open_note, sign_note

__all__ = ["Checkpoint", "SignedCheckpoint", "open_checkpoint", "sign_checkpoint"]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's origin, tree size and root hash (plus optional extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(line + "\n" for line in (*lines, *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the note text), naming the offending line on error."""
        if not text.endswith("\n"):
            raise IntegrityError("checkpoint body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise IntegrityError(f"checkpoint has {len(lines)} lines, needs at least 3")
        origin, size_s, root_s, *ext = lines
        if not origin:
            raise IntegrityError("checkpoint line 1: empty origin")
        if not size_s.isdigit() or not size_s.isascii() or (size_s != "0" and size_s[0] == "0"):
            raise IntegrityError(f"checkpoint line 2: tree size {size_s!r} is not a decimal")
        try:
            root = base64.b64decode(root_s, validate=True)
        except binascii.Error as e:
            raise IntegrityError("checkpoint line 3: root hash is not base64") from e
        if len(root) != HASH_SIZE:
            raise IntegrityError(f"checkpoint line 3: root hash is {len(root)} bytes, not 32")
        for i, line in enumerate(ext, start=4):
            if not line:
                raise IntegrityError(f"checkpoint line {i}: empty extension line")
        return cls(origin, int(size_s), root, tuple(ext))


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with the note it came in (for its signatures and exact bytes)."""

    checkpoint: Checkpoint
    note: Note


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> bytes:
    """The checkpoint as a signed note."""
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(
    data: bytes, verifiers: Sequence[NoteVerifier], origin: str | None = None
) -> SignedCheckpoint:
    """Verify a signed checkpoint with trusted keys and parse it; optionally pin the origin."""
    note = open_note(data, verifiers)
    cp = Checkpoint.parse(note.text)
    if origin is not None and cp.origin != origin:
        raise IntegrityError(f"checkpoint line 1: origin {cp.origin!r}, expected {origin!r}")
    return SignedCheckpoint(cp, note)
