"""Small ledger helpers shared by the certification steps: a party's signer, one log entry."""

from __future__ import annotations

from dosetrail.errors import AuthError
from dosetrail.log.note import Signer
from dosetrail.log.storage import append_entries
from dosetrail.store.engine import read_tx, write_tx
from dosetrail.store.ledger import Ledger
from dosetrail.store.parties import Party, find_party, party_signer

__all__ = ["append_entry", "party_of", "signer_of"]


def party_of(ledger: Ledger, name: str, role: str) -> Party:
    with read_tx(ledger.engine) as conn:
        who = find_party(conn, name)
    if who.role != role:
        raise AuthError(f"party {name!r} is a {who.role}; this step needs a {role}")
    return who


def signer_of(ledger: Ledger, name: str, role: str) -> Signer:
    """The private key of party ``name`` (which must have ``role``) from this home."""
    who = party_of(ledger, name, role)
    signer = party_signer(ledger.home.keys_dir, who)
    if signer is None:
        raise AuthError(f"no private key for party {name!r} in {ledger.home.keys_dir}")
    return signer


def append_entry(ledger: Ledger, entry: bytes) -> int:
    """Sequence one log entry in its own transaction; its log index."""
    with write_tx(ledger.engine) as conn:
        return append_entries(conn, [entry])
