"""One error tree, with messages written for people.

::

    DosetrailError                 exit 2, HTTP 400 unless a subclass says otherwise
    ├── MalformedInput             the bytes cannot be read as a document at all (exit 2, 400)
    │   └── NotEpcis               well-formed JSON/XML, but not shaped like an EPCIS document
    ├── InvalidDocument            read, but breaks EPCIS/CBV rules (exit 1, 422)
    ├── IntegrityError             a proof, hash or signature does not check out (exit 1, 422)
    ├── AuthError                  unknown party or role not allowed (exit 1, 403)
    ├── NotFound                   (exit 2, 404)
    ├── Conflict                   (exit 1, 409)
    └── StorageError               the ledger or log files cannot be used (exit 2, 503)

Every error knows *where*: a :class:`Location` names the document, the event index and the field,
so a user can go straight to the line that is wrong. Library exceptions are wrapped with
``raise ... from e`` at the module that called the library, never leaked to the CLI or server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuthError",
    "Conflict",
    "DosetrailError",
    "IntegrityError",
    "InvalidDocument",
    "Location",
    "MalformedInput",
    "NotEpcis",
    "NotFound",
    "Problem",
    "StorageError",
]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is: document name, event index (0-based) and field path."""

    document: str | None = None
    event: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.document:
            parts.append(self.document)
        if self.event is not None:
            parts.append(f"event {self.event}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts)

    def within(self, document: str | None) -> Location:
        """The same location, placed in ``document`` if it had none."""
        if self.document or not document:
            return self
        return Location(document, self.event, self.field)


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation problem: where and what."""

    location: Location
    message: str

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class DosetrailError(Exception):
    """Base of every error dosetrail raises on purpose; ``str()`` is the user-facing message."""

    exit_code: int = 2
    http_status: int = 400
    title: str = "Bad request"

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location or Location()
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class MalformedInput(DosetrailError):
    """The input cannot be read as a document: not JSON/XML, truncated, too large, too deep."""

    title = "Malformed input"


class NotEpcis(MalformedInput):
    """Well-formed JSON or XML that is not an EPCIS document (wrong root, unknown event type).

    Commands that only read (``epcis hash``) stop with exit 2; ``epcis validate`` reports it as
    one more reason the document is invalid.
    """

    title = "Not an EPCIS document"


class InvalidDocument(DosetrailError):
    """A readable document that breaks the EPCIS 2.0 / CBV 2.0 rules; carries every problem."""

    exit_code = 1
    http_status = 422
    title = "Invalid EPCIS document"

    def __init__(
        self, message: str, location: Location | None = None, problems: Sequence[Problem] = ()
    ) -> None:
        self.problems = tuple(problems) or (Problem(location or Location(), message),)
        super().__init__(message, location)


class IntegrityError(DosetrailError):
    """A hash, proof or signature does not verify: evidence of tampering or corruption."""

    exit_code = 1
    http_status = 422
    title = "Integrity check failed"


class AuthError(DosetrailError):
    """An unknown party, or a party acting outside its role."""

    exit_code = 1
    http_status = 403
    title = "Forbidden"


class NotFound(DosetrailError):
    """A named thing (party, event, file, capture) does not exist."""

    http_status = 404
    title = "Not found"


class Conflict(DosetrailError):
    """The request contradicts what is already recorded (e.g. a checkpoint going backwards)."""

    exit_code = 1
    http_status = 409
    title = "Conflict"


class StorageError(DosetrailError):
    """The ledger database or the log files cannot be opened or written."""

    http_status = 503
    title = "Storage unavailable"
