"""Parties: who records events, with which role and which Ed25519 key.

A party created here gets its key pair in ``DOSETRAIL_HOME/keys/<name>.key`` (a C2SP note private
key named after the party, mode 0600); a party whose key lives elsewhere is registered with just
its verifier key and must sign its captures itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.errors import AuthError, Conflict
from dosetrail.log.note import Signer, Verifier, check_key_name
from dosetrail.store.engine import read_tx, write_tx
from dosetrail.store.roles import ROLES
from dosetrail.store.schema import party

__all__ = ["Party", "add_party", "find_party", "key_path", "list_parties", "party_signer"]


@dataclass(frozen=True, slots=True)
class Party:
    id: int
    name: str
    role: str
    verifier_key: str
    site: str | None = None

    @property
    def verifier(self) -> Verifier:
        return Verifier.from_key(self.verifier_key)


def key_path(keys_dir: Path, name: str) -> Path:
    return keys_dir / f"{name}.key"


def add_party(
    engine: Engine,
    keys_dir: Path,
    name: str,
    role: str,
    *,
    pubkey: str | None = None,
    site: str | None = None,
) -> Party:
    """Register a party; without ``pubkey`` a new key pair is created in ``keys_dir``.

    ``site`` (an SGLN or Digital Link) is where a donor, store or facility operates: it may then
    record only there or at locations below it in the master data.
    """
    check_key_name(name)
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    with read_tx(engine) as conn:
        if _row(conn, name) is not None:
            raise Conflict(f"party {name!r} already exists")
    if pubkey is None:
        path = key_path(keys_dir, name)
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        signer = Signer.load(path) if path.exists() else Signer.generate(name)
        if not path.exists():
            signer.save(path)
        verifier = signer.verifier
    else:
        verifier = Verifier.from_key(pubkey)
        if verifier.name != name:
            raise Conflict(f"the key is named {verifier.name!r}, not {name!r}")
    with write_tx(engine) as conn:
        if conn.execute(
            sa.select(party.c.id).where(party.c.verifier_key == verifier.verifier_key)
        ).first():
            raise Conflict(f"another party already uses the key {verifier.verifier_key}")
        canonical = normalise_epc(site.strip()) if site else None
        result = conn.execute(
            sa.insert(party).values(
                name=name,
                role=role,
                verifier_key=verifier.verifier_key,
                site=canonical,
                created=time.time_ns() // 1000,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return Party(int(key[0]), name, role, verifier.verifier_key, canonical)


def _row(conn: Connection, name: str) -> Any:
    return conn.execute(
        sa.select(party.c.id, party.c.name, party.c.role, party.c.verifier_key, party.c.site).where(
            party.c.name == name
        )
    ).first()


def find_party(conn: Connection, name: str) -> Party:
    """The registered party ``name``; :class:`AuthError` if there is none."""
    row = _row(conn, name)
    if row is None:
        raise AuthError(f"unknown party {name!r}: register it with `dosetrail party add`")
    return Party(int(row.id), row.name, row.role, row.verifier_key, row.site)


def list_parties(engine: Engine) -> list[Party]:
    with read_tx(engine) as conn:
        rows = conn.execute(
            sa.select(
                party.c.id, party.c.name, party.c.role, party.c.verifier_key, party.c.site
            ).order_by(party.c.id)
        ).all()
    return [Party(int(r.id), r.name, r.role, r.verifier_key, r.site) for r in rows]


def party_signer(keys_dir: Path, who: Party) -> Signer | None:
    """The party's private key if this home holds it (and it matches the registered key)."""
    path = key_path(keys_dir, who.name)
    if not path.exists():
        return None
    signer = Signer.load(path)
    if signer.verifier_key != who.verifier_key:
        raise AuthError(f"{path} does not hold the key registered for party {who.name!r}")
    return signer
