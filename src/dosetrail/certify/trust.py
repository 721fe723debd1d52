"""The verifier's trust file: the only thing ``dosetrail verify`` trusts besides mathematics.

One key a line (C2SP note verifier keys, ``name+hash+base64``), with a role label; ``#`` starts
a comment::

    log <vkey>                         the log operator's checkpoint key (exactly one)
    witness <vkey>                     a witness (its cosigner key, 0x04, or its Ed25519 key)
    quorum <k>                         cosignatures required (default: every trusted witness)
    party <name> <role> <vkey>         a party that signs captures or certification entries

Roles are those of ``docs/profile.md`` §2 (``donor``, ``carrier``, ``store``, ``facility``,
``monitor``). The donor's key signs the nonce; a monitor's key signs observations, the frame and
the certificate; facilities sign sessions, stores and facilities sign stock counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dosetrail.errors import MalformedInput, NotFound
from dosetrail.log.cosignature import CosignatureVerifier
from dosetrail.log.note import Verifier

__all__ = ["PARTY_ROLES", "Trust", "TrustedParty"]

PARTY_ROLES = ("donor", "carrier", "store", "facility", "monitor")


@dataclass(frozen=True, slots=True)
class TrustedParty:
    name: str
    role: str
    verifier: Verifier

    @property
    def key_id(self) -> str:
        return f"{self.verifier.name}+{self.verifier.key_hash:08x}"


@dataclass(frozen=True)
class Trust:
    log: Verifier
    witnesses: tuple[CosignatureVerifier, ...] = ()
    quorum: int = 0
    parties: dict[str, TrustedParty] = field(default_factory=dict)  # by key id name+hash

    def party(self, key_id: str) -> TrustedParty | None:
        return self.parties.get(key_id)

    def with_role(self, *roles: str) -> list[Verifier]:
        return [p.verifier for p in self.parties.values() if p.role in roles]

    def lines(self) -> list[str]:
        out = ["# dosetrail trusted keys (dosetrail verify BUNDLE --trust FILE)"]
        out.append(f"log {self.log.verifier_key}")
        out += [f"witness {w.verifier_key}" for w in self.witnesses]
        out.append(f"quorum {self.quorum}")
        out += [f"party {p.name} {p.role} {p.verifier.verifier_key}" for p in self.parties.values()]
        return out

    def text(self) -> str:
        return "\n".join(self.lines()) + "\n"

    @classmethod
    def build(
        cls,
        log: Verifier,
        witnesses: Iterable[CosignatureVerifier],
        parties: Iterable[TrustedParty],
        quorum: int | None = None,
    ) -> Trust:
        ws = tuple(witnesses)
        by_id = {p.key_id: p for p in parties}
        return cls(log, ws, len(ws) if quorum is None else quorum, by_id)

    @classmethod
    def parse(cls, text: str, name: str = "<trust>") -> Trust:
        log: Verifier | None = None
        witnesses: list[CosignatureVerifier] = []
        parties: list[TrustedParty] = []
        quorum: int | None = None
        for n, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            where = f"{name} line {n}"
            try:
                match words:
                    case ["log", vkey]:
                        if log is not None:
                            raise MalformedInput(f"{where}: a second log key")
                        log = Verifier.from_key(vkey)
                    case ["witness", vkey]:
                        witnesses.append(CosignatureVerifier.from_key(vkey))
                    case ["quorum", k] if k.isdigit():
                        quorum = int(k)
                    case ["party", pname, role, vkey] if role in PARTY_ROLES:
                        verifier = Verifier.from_key(vkey)
                        if verifier.name != pname:
                            raise MalformedInput(f"{where}: key is named {verifier.name!r}")
                        parties.append(TrustedParty(pname, role, verifier))
                    case _:
                        raise MalformedInput(
                            f"{where}: expected 'log VKEY', 'witness VKEY', 'quorum K' or "
                            f"'party NAME ROLE VKEY' (roles: {', '.join(PARTY_ROLES)})"
                        )
            except MalformedInput as e:
                if e.message.startswith(where):
                    raise
                raise MalformedInput(f"{where}: {e.message}") from e
        if log is None:
            raise MalformedInput(f"{name}: no 'log' key")
        if quorum is not None and quorum > len(witnesses):
            raise MalformedInput(f"{name}: quorum {quorum} exceeds the {len(witnesses)} witnesses")
        return cls.build(log, witnesses, parties, quorum)

    @classmethod
    def load(cls, path: Path) -> Trust:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as e:
            raise NotFound(f"no trust file {path}") from e
        except (OSError, UnicodeDecodeError) as e:
            raise MalformedInput(f"cannot read trust file {path}: {e}") from e
        return cls.parse(text, str(path))
