"""Monitor observations: one signed EPCIS event per sampled unit, captured by a monitor party.

:func:`observation_event` builds the profile's monitor field observation (docs/profile.md §3,
``inspecting`` with ``dt:observation``); :func:`record_observations` captures a document of them
through :meth:`Ledger.capture` as the monitor, so they are signed, logged and later proven like
any other event. In the demo and the tests the findings come from the simulator's observable
reality (``reality.json``) through :func:`observations_from_reality`; a real monitor captures
its own documents and registers them with ``dosetrail sample observe --capture FILE``.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from dosetrail.certify.ledgerdata import event_evidence
from dosetrail.certify.outcomes import DT, Claim, claim_of
from dosetrail.certify.plan import Plan
from dosetrail.certify.state import PeriodState
from dosetrail.epcis.document import EPCIS_CONTEXT_URL
from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.errors import DosetrailError, MalformedInput
from dosetrail.store.capture import CaptureResult
from dosetrail.store.engine import read_tx
from dosetrail.store.ledger import Ledger

__all__ = ["observation_event", "observations_from_reality", "record_observations"]


def _local_time(when: datetime, offset: str) -> str:
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    local = when.astimezone(UTC) + sign * timedelta(hours=hours, minutes=minutes)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + offset


def observation_event(
    *,
    where: str,
    when: datetime,
    offset: str,
    product: str,
    observation: dict[str, Any],
) -> dict[str, Any]:
    """A monitor field observation; ``observation`` keys are profile names without ``dt:``."""
    counted = observation.get("vialsCounted", 0)
    return {
        "type": "ObjectEvent",
        "eventTime": _local_time(when, offset),
        "eventTimeZoneOffset": offset,
        "quantityList": [{"epcClass": product, "quantity": counted}],
        "action": "OBSERVE",
        "bizStep": "inspecting",
        "readPoint": {"id": where},
        "dt:observation": {f"dt:{k}": v for k, v in observation.items()},
    }


def _where(event: dict[str, Any]) -> tuple[str, str]:
    """Where the monitor goes (the recorded post or site, as written) and its UTC offset."""
    for key in ("readPoint", "bizLocation"):
        value = event.get(key)
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            return value["id"], str(event.get("eventTimeZoneOffset", "+00:00"))
    raise MalformedInput("a sampled event has no readPoint or bizLocation")


def _canonical(ident: str | None) -> str | None:
    if ident is None:
        return None
    try:
        return normalise_epc(ident)
    except DosetrailError:
        return ident


def observations_from_reality(
    ledger: Ledger,
    plan: Plan,
    reality: dict[str, Any],
    *,
    when: datetime | None = None,
) -> list[dict[str, Any]]:
    """What an honest monitor would record for every sampled unit, given ``reality.json``.

    Interview outcomes are drawn (each person listed confirms with the session's
    ``confirmationProbability``) from a generator seeded by the sample seed and the unit.
    """
    when = when or datetime.now(UTC).replace(microsecond=0)
    design = plan.frame.design
    sites = {_canonical(k): v for k, v in reality.get("sites", {}).items()}
    sessions = reality.get("sessions", {})
    with read_tx(ledger.engine) as conn:
        evidence = {e.log_index: e for e in event_evidence(conn, plan.sample.first_draw)}
    out = []
    for index, draw in sorted(plan.sample.first_draw.items(), key=lambda kv: kv[1].index):
        ev = evidence[index]
        claim = claim_of(ev.event, ev.prefixes)
        where, offset = _where(ev.event)
        if claim.kind == "session":
            fields = _session(claim, sessions.get(claim.session_id or ""), sites, design.interviews)
            rng = random.Random(
                hashlib.sha256(plan.sample.seed + index.to_bytes(8, "big")).digest()
            )
            p = float(fields.pop("confirmationProbability"))
            attempted = fields["interviewsAttempted"]
            fields["interviewsConfirmed"] = sum(rng.random() < p for _ in range(attempted))
        else:
            site = sites.get(claim.site)
            fields = {
                "subject": "site",
                "siteExists": bool(site and site.get("exists")),
                "vialsCounted": int(site.get("vialsCounted", 0)) if site else 0,
            }
        fields = {"subject": fields.pop("subject"), "sampleIndex": draw.index, **fields}
        product = claim.product or "urn:epc:idpat:sgtin:0000000.000000.*"
        out.append(
            observation_event(
                where=where, when=when, offset=offset, product=product, observation=fields
            )
        )
    return out


def _session(
    claim: Claim,
    real: dict[str, Any] | None,
    sites: dict[str | None, dict[str, Any]],
    interviews: int,
) -> dict[str, Any]:
    if real is None:  # a session nobody held and nobody can show a register for
        site = sites.get(claim.site)
        return {
            "subject": "session",
            "sessionID": claim.session_id,
            "siteExists": bool(site and site.get("exists")),
            "sessionHeld": False,
            "registerFound": False,
            "registerDoses": 0,
            "registerMatches": False,
            "vialsCounted": 0,
            "interviewsAttempted": 0,
            "confirmationProbability": 0.0,
        }
    site = sites.get(_canonical(real.get("site")))
    listed = int(real.get("registerDoses", 0)) if real.get("registerFound") else 0
    return {
        "subject": "session",
        "sessionID": claim.session_id,
        "siteExists": bool(site.get("exists", True)) if site else real.get("site") is not None,
        "sessionHeld": bool(real.get("held")),
        "registerFound": bool(real.get("registerFound")),
        "registerDoses": listed,
        "registerMatches": bool(real.get("registerMatches")),
        "vialsCounted": int(real.get("vialsOpenedTrue", 0)),
        "interviewsAttempted": min(interviews, listed),
        "confirmationProbability": float(real.get("confirmationProbability", 0.0)),
    }


def record_observations(
    ledger: Ledger,
    programme: str,
    period: str,
    events: list[dict[str, Any]],
    monitor: str = "monitor",
    *,
    document: bytes | None = None,
) -> CaptureResult:
    """Capture the observations (or a monitor's own ``document``) and note it for the period."""
    state = PeriodState.open(ledger.home, programme, period)
    state.need("nonceReveal", "`dosetrail nonce reveal`")
    if document is None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        document = orjson.dumps(
            {
                "@context": [EPCIS_CONTEXT_URL, {"dt": DT}],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": now,
                "epcisBody": {"eventList": events},
            }
        )
    result = ledger.capture(document, monitor, name=f"observations/{programme}/{period}.jsonld")
    done = list(state.get("observations") or [])
    if result.log_index not in done:
        done.append(result.log_index)
    state.set("observations", done)
    return result
