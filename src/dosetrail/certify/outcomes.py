"""What a unit claims, what the monitor observed, and whether that verifies the claim.

Claims and observations are read from events of ``docs/profile.md`` whatever prefix a producer
bound to the dosetrail namespace (and XML-binding strings like ``"12"``, ``"true"`` read as the
integer and boolean they stand for, profile §1).

**A session is verified** when the monitor found all of: the site exists; the session was held;
its register was shown; the register total matches the claimed total (``registerMatches`` and
``registerDoses`` = doses recorded); at least as many empty vials as the session lists as opened;
and at least ``min(interviews, doses)`` people from the register traced, of whom at most
``interview_misses`` did not confirm being vaccinated.

**A site's stock is verified** when the site exists and the monitor counted at least the closed
vials its last stock count records.

Anything else — no observation, an observation about another session or site, a claim that is
not a session or stock count, a frame weight that differs from the event's — is *not verified*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dosetrail.certify.design import Design
from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.epcis.vocabulary import BIZ_STEP
from dosetrail.errors import DosetrailError

__all__ = ["DT", "Claim", "Observation", "claim_of", "judge", "observation_of"]

DT = "https://dosetrail.org/epcis/"
_STEP_KIND = {"dispensing": "session", "cycle_counting": "stock"}


def _dt_key(prefixes: dict[str, str], local: str) -> list[str]:
    return [f"{p}:{local}" for p, uri in prefixes.items() if uri == DT]


def _get(obj: Any, prefixes: dict[str, str], local: str) -> Any:
    if not isinstance(obj, dict):
        return None
    for key in _dt_key(prefixes, local):
        if key in obj:
            return obj[key]
    return None


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in ("true", "false"):
        return value.strip() == "true"
    return None


def _location(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        try:
            return str(normalise_epc(value["id"].strip()))
        except DosetrailError:
            return str(value["id"]).strip()
    return None


def product_class(identifier: str) -> str | None:
    """``urn:epc:idpat:sgtin:<cp>.<item>.*`` for an SGTIN or LGTIN URI (profile §3)."""
    for prefix in ("urn:epc:id:sgtin:", "urn:epc:class:lgtin:"):
        if identifier.startswith(prefix):
            parts = identifier[len(prefix) :].split(".")
            if len(parts) == 3:
                return f"urn:epc:idpat:sgtin:{parts[0]}.{parts[1]}.*"
    if identifier.startswith("urn:epc:idpat:sgtin:"):
        return identifier
    return None


@dataclass(frozen=True, slots=True)
class Claim:
    """What a frame unit's event claims."""

    kind: str | None  # "session" | "stock" | None (not a unit event)
    weight: int
    vials: int
    session_id: str | None
    site: str | None
    product: str | None


def claim_of(event: dict[str, Any], prefixes: dict[str, str]) -> Claim:
    """Read a session (``dispensing``) or stock count (``cycle_counting``) claim."""
    step = BIZ_STEP.term(str(event.get("bizStep", "")))
    kind = _STEP_KIND.get(step or "")
    if event.get("type") != "ObjectEvent" or event.get("action") != "OBSERVE":
        kind = None
    site = _location(event.get("bizLocation")) or _location(event.get("readPoint"))
    if kind == "session":
        tallies = _get(event, prefixes, "administered")
        if not isinstance(tallies, list):
            return Claim(None, 0, 0, None, site, None)
        counts = [_int(_get(t, prefixes, "count")) for t in tallies]
        raw_epcs = event.get("epcList")
        epcs: list[Any] = raw_epcs if isinstance(raw_epcs, list) else []
        first = next((e for e in epcs if isinstance(e, str)), None)
        sid = _get(event, prefixes, "sessionID")
        if any(c is None or c < 0 for c in counts):
            return Claim(None, 0, 0, None, site, None)
        return Claim(
            kind,
            sum(c for c in counts if c is not None),
            len(epcs),
            sid if isinstance(sid, str) else None,
            site,
            product_class(first) if first else None,
        )
    if kind == "stock":
        quantities = event.get("quantityList")
        if not isinstance(quantities, list):
            return Claim(None, 0, 0, None, site, None)
        values = [_int(q.get("quantity")) if isinstance(q, dict) else None for q in quantities]
        if any(v is None or v < 0 for v in values):
            return Claim(None, 0, 0, None, site, None)
        classes = [q.get("epcClass") for q in quantities if isinstance(q, dict)]
        first = next((c for c in classes if isinstance(c, str)), None)
        total = sum(v for v in values if v is not None)
        return Claim(kind, total, total, None, site, product_class(first) if first else None)
    return Claim(None, 0, 0, None, site, None)


@dataclass(frozen=True, slots=True)
class Observation:
    """A monitor's ``dt:observation`` (profile §4); absent members are ``None``."""

    subject: str | None
    sample_index: int | None
    session_id: str | None
    site_exists: bool | None
    session_held: bool | None
    register_found: bool | None
    register_doses: int | None
    register_matches: bool | None
    vials_counted: int | None
    interviews_attempted: int | None
    interviews_confirmed: int | None
    where: str | None


def observation_of(event: dict[str, Any], prefixes: dict[str, str]) -> Observation | None:
    obs = _get(event, prefixes, "observation")
    if not isinstance(obs, dict) or BIZ_STEP.term(str(event.get("bizStep", ""))) != "inspecting":
        return None

    def get(local: str) -> Any:
        return _get(obs, prefixes, local)

    sid = get("sessionID")
    subject = get("subject")
    return Observation(
        subject if isinstance(subject, str) else None,
        _int(get("sampleIndex")),
        sid if isinstance(sid, str) else None,
        _bool(get("siteExists")),
        _bool(get("sessionHeld")),
        _bool(get("registerFound")),
        _int(get("registerDoses")),
        _bool(get("registerMatches")),
        _int(get("vialsCounted")),
        _int(get("interviewsAttempted")),
        _int(get("interviewsConfirmed")),
        _location(event.get("readPoint")),
    )


def judge(
    kind: str,
    frame_weight: int,
    claim: Claim,
    observation: Observation | None,
    design: Design,
) -> tuple[bool, list[str]]:
    """Whether the unit is verified, and why not (short reasons, in a fixed order)."""
    reasons: list[str] = []
    if claim.kind != kind:
        reasons.append(f"the event is not a {kind} claim")
    elif claim.weight != frame_weight:
        reasons.append(f"the frame says weight {frame_weight}, the event {claim.weight}")
    if observation is None:
        reasons.append("no observation")
        return False, reasons
    o = observation
    if o.site_exists is not True:
        reasons.append("site not found")
    if kind == "session":
        if o.session_held is not True:
            reasons.append("session not held")
        if o.register_found is not True:
            reasons.append("register not shown")
        elif o.register_matches is not True or o.register_doses != claim.weight:
            reasons.append(f"register lists {o.register_doses} doses, {claim.weight} claimed")
        if o.vials_counted is None or o.vials_counted < claim.vials:
            reasons.append(f"{o.vials_counted} empty vials for {claim.vials} opened")
        needed = min(design.interviews, claim.weight)
        attempted = o.interviews_attempted or 0
        confirmed = o.interviews_confirmed or 0
        if attempted < needed:
            reasons.append(f"{attempted} interviews, {needed} needed")
        elif not 0 <= attempted - confirmed <= design.interview_misses:
            reasons.append(f"{confirmed} of {attempted} interviewed confirmed vaccination")
    elif o.vials_counted is None or o.vials_counted < claim.vials:
        reasons.append(f"{o.vials_counted} vials counted, {claim.vials} recorded")
    return not reasons, reasons
