"""End to end after a simulated campaign is loaded: from nonce to a verified bundle.

:func:`certify_simulation` is what ``dosetrail demo`` calls after loading the simulation into the
ledger: the donor commits its nonce; the monitor commits the frame; the sampling checkpoint is
cosigned by the local witnesses; the donor reveals; the monitor records what ``reality.json``
says a field visit would find for every sampled unit; the certificate is issued, the evidence
checkpoint cosigned and the bundle written, with the trust file a donor would use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from dosetrail.certify import bundle as b
from dosetrail.certify._zip import read_zip
from dosetrail.certify.certificate import encode_certificate
from dosetrail.certify.checkpoints import local_witnesses
from dosetrail.certify.design import DEFAULT_DESIGN, Design
from dosetrail.certify.issue import issue_certificate, write_certificate_bundle
from dosetrail.certify.nonce import commit_nonce, new_nonce, parse_nonce, reveal_nonce
from dosetrail.certify.observations import observations_from_reality, record_observations
from dosetrail.certify.plan import commit_frame, load_plan, seal
from dosetrail.certify.state import PeriodState
from dosetrail.certify.trust import PARTY_ROLES, Trust, TrustedParty
from dosetrail.errors import MalformedInput
from dosetrail.log.witness import Witness
from dosetrail.store.ledger import Ledger

__all__ = ["Certified", "certify", "certify_simulation", "tampered_copy", "trust_for"]


@dataclass(frozen=True)
class Certified:
    bundle: Path
    trust: Path
    certificate: dict[str, Any]
    size: int


def trust_for(ledger: Ledger, witnesses: Sequence[Witness]) -> Trust:
    """The trust file a donor would use for this ledger: the log key, the witnesses, and every
    party that records events or certification entries, with its role."""
    parties = [
        TrustedParty(p.name, p.role, p.verifier) for p in ledger.parties() if p.role in PARTY_ROLES
    ]
    return Trust.build(ledger.operator.verifier, [w.cosigner.verifier for w in witnesses], parties)


def certify(
    ledger: Ledger,
    programme: str,
    out: Path,
    *,
    period: str = "all",
    witnesses: Sequence[Witness] | None = None,
    certifier: str = "monitor",
    issued: str | None = None,
) -> Path:
    """Issue the certificate (unless already issued) and write the bundle to ``out``."""
    state = PeriodState.open(ledger.home, programme, period)
    if state.get("certificate") is None:
        issue_certificate(ledger, programme, period, certifier=certifier, issued=issued)
    chosen = local_witnesses(ledger) if witnesses is None else witnesses
    write_certificate_bundle(ledger, programme, period, out, chosen)
    return out


def certify_simulation(
    ledger: Ledger,
    sim: Path,
    out_dir: Path,
    *,
    programme: str = "campaign",
    period: str = "all",
    donor: str = "donor",
    monitor: str = "monitor",
    witnesses: Sequence[Witness] | None = None,
    design: Design = DEFAULT_DESIGN,
    nonce: bytes | None = None,
    observed_at: datetime | None = None,
    issued: str | None = None,
) -> Certified:
    """Everything after ``load_simulation``: writes ``out_dir/bundle.zip`` and
    ``out_dir/trusted-keys.txt``. The donor nonce is ``truth.json``'s ``donorNonce`` unless given.
    """
    try:
        truth = orjson.loads((sim / "truth.json").read_bytes())
        reality = orjson.loads((sim / "reality.json").read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise MalformedInput(
            f"{sim}: not a simulation output (truth.json, reality.json): {e}"
        ) from e
    if nonce is None:
        nonce = parse_nonce(truth["donorNonce"]) if "donorNonce" in truth else new_nonce()
    chosen = local_witnesses(ledger) if witnesses is None else list(witnesses)
    commit_nonce(ledger, programme, period, nonce, donor)
    commit_frame(ledger, programme, period, certifier=monitor, design=design)
    seal(ledger, programme, period, chosen)
    reveal_nonce(ledger, programme, period, nonce, donor)
    plan = load_plan(ledger, programme, period)
    events = observations_from_reality(ledger, plan, reality, when=observed_at)
    record_observations(ledger, programme, period, events, monitor)
    out_dir.mkdir(parents=True, exist_ok=True)
    bundle = out_dir / "bundle.zip"
    issued_cert = issue_certificate(ledger, programme, period, certifier=monitor, issued=issued)
    size = write_certificate_bundle(ledger, programme, period, bundle, chosen)
    trust = out_dir / "trusted-keys.txt"
    trust.write_text(trust_for(ledger, chosen).text(), encoding="utf-8")
    return Certified(bundle, trust, issued_cert.certificate, size)


def tampered_copy(bundle: Path, out: Path) -> Path:
    """A copy of ``bundle`` whose certificate claims one more certified dose, with the manifest
    recomputed so that only the signature can tell (what a forger would try)."""
    members = read_zip(bundle.read_bytes())
    members.pop("manifest.json")
    cert = orjson.loads(members[b.CERTIFICATE])
    if "sessions" in cert:
        cert["sessions"]["certified"] += 1
    else:
        cert["issued"] = "1970-01-01T00:00:00Z"
    members[b.CERTIFICATE] = encode_certificate(cert) + b"\n"
    b.write_bundle(out, members)
    return out
