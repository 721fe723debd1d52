"""``dosetrail verify``: check a bundle offline, trusting only the keys of a trust file.

Checks, in order (each names what failed; the first failure stops verification — the list and
what each covers is in ``docs/certification.md`` §8):

bundle · certificate signature · human certificate · committed evidence · checkpoints ·
log inclusion · events · captures · donor nonce · frame · sample · observations · statistics ·
certificate logged
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import rfc8785

from dosetrail.certify import bundle as b
from dosetrail.certify.certificate import (
    CERTIFICATE_FORMAT,
    ObservedEvent,
    certificate_body,
    evaluate,
)
from dosetrail.certify.checkpoints import open_cosigned
from dosetrail.certify.entries import (
    CERTIFICATE,
    FRAME,
    NONCE_COMMIT,
    NONCE_REVEAL,
    note_text,
    open_entry,
    parse_entry,
    sha256_ref,
)
from dosetrail.certify.frame import Frame
from dosetrail.certify.html import render_html
from dosetrail.certify.outcomes import Claim, claim_of, observation_of
from dosetrail.certify.sampling import Sample, derive_seed, draw_sample
from dosetrail.certify.trust import Trust, TrustedParty
from dosetrail.epcis import digest, hash_id_from_digest, standalone_event
from dosetrail.epcis.jsonld import document_from_json
from dosetrail.errors import DosetrailError, IntegrityError, NotFound, StorageError
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from dosetrail.log.note import open_note
from dosetrail.store.capture import capture_text

__all__ = ["Check", "Report", "verify_bundle"]

_CLAIM_ROLES = {"session": ("facility",), "stock": ("facility", "store")}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    detail: str
    ok: bool = True


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    certificate: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


OnCheck = Callable[[Check], None]


@dataclass
class _Bundle:
    """What the checks learn, step by step."""

    trust: Trust
    members: dict[str, bytes] = field(default_factory=dict)
    cert: dict[str, Any] = field(default_factory=dict)
    cert_bytes: bytes = b""
    certifier: TrustedParty | None = None
    sampling: Checkpoint | None = None
    evidence: Checkpoint | None = None
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)
    raw_entries: dict[int, bytes] = field(default_factory=dict)
    records: list[b.EventRecord] = field(default_factory=list)
    event_ids: dict[int, str] = field(default_factory=dict)
    digests: dict[int, bytes] = field(default_factory=dict)
    prefixes: dict[int, dict[str, str]] = field(default_factory=dict)
    signers: dict[int, TrustedParty] = field(default_factory=dict)
    nonce: bytes = b""
    frame: Frame | None = None
    sample: Sample | None = None
    claims: dict[int, tuple[str, Claim]] = field(default_factory=dict)
    observed: list[ObservedEvent] = field(default_factory=list)


def verify_bundle(source: Path | bytes, trust: Trust, on_check: OnCheck | None = None) -> Report:
    """Run every check; return the report, or raise :class:`IntegrityError` at the first
    failure (after reporting it to ``on_check`` as failed)."""
    report = Report()
    state = _Bundle(trust)
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"no bundle at {source}") from e
        except OSError as e:
            raise StorageError(f"cannot read bundle {source}: {e}") from e
    else:
        data = source
    steps: list[tuple[str, Callable[[], str]]] = [
        ("bundle", lambda: _container(state, data)),
        ("certificate signature", lambda: _certificate(state)),
        ("human certificate", lambda: _html(state)),
        ("committed evidence", lambda: _committed(state)),
        ("checkpoints", lambda: _checkpoints(state)),
        ("log inclusion", lambda: _inclusion(state)),
        ("events", lambda: _events(state)),
        ("captures", lambda: _captures(state)),
        ("donor nonce", lambda: _nonce(state)),
        ("frame", lambda: _frame(state)),
        ("sample", lambda: _sample(state)),
        ("observations", lambda: _observations(state)),
        ("statistics", lambda: _statistics(state)),
        ("certificate logged", lambda: _logged(state)),
    ]
    for name, run in steps:
        try:
            detail = run()
        except IntegrityError as e:
            _fail(report, on_check, name, e.message)
            raise IntegrityError(f"{name}: {e.message}") from e
        except (DosetrailError, ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
            message = f"damaged or malformed data ({type(e).__name__}: {e})"
            _fail(report, on_check, name, message)
            raise IntegrityError(f"{name}: {message}") from e
        check = Check(name, detail)
        report.checks.append(check)
        if on_check is not None:
            on_check(check)
    report.certificate = state.cert
    return report


def _canonical(value: Any, raw: bytes) -> bool:
    """``raw`` is the RFC 8785 form of ``value`` (orjson's sorted form is the same for ASCII
    keys and no floats, and is checked first because it is fast)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == raw or rfc8785.dumps(value) == raw


def _fail(report: Report, on_check: OnCheck | None, name: str, message: str) -> None:
    check = Check(name, message, ok=False)
    report.checks.append(check)
    if on_check is not None:
        on_check(check)


# -- 1-3: container, statement, checkpoints ------------------------------------------------------
def _container(s: _Bundle, data: bytes) -> str:
    s.members = b.open_bundle(data)
    return f"{len(s.members) + 1} members in a canonical zip; the manifest's SHA-256s match"


def _certificate(s: _Bundle) -> str:
    raw = s.members[b.CERTIFICATE]
    if not raw.endswith(b"\n") or raw.count(b"\n") != 1:
        raise IntegrityError("certificate.json must be one line of JSON")
    body = raw[:-1]
    try:
        cert = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise IntegrityError(f"certificate.json is not JSON ({e})") from e
    if not isinstance(cert, dict) or not _canonical(cert, body):
        raise IntegrityError("certificate.json is not RFC 8785 canonical JSON")
    if cert.get("format") != CERTIFICATE_FORMAT:
        raise IntegrityError(f"certificate format is not {CERTIFICATE_FORMAT}")
    monitors = [p for p in s.trust.parties.values() if p.role == "monitor"]
    if not monitors:
        raise IntegrityError("the trust file has no monitor key to check the certificate with")
    note = open_note(raw + b"\n" + s.members[b.SIGNATURE], [p.verifier for p in monitors])
    if note.unverified_sigs or len(note.sigs) != 1:
        raise IntegrityError("the certificate must carry exactly one signature, by a monitor")
    sig = note.sigs[0]
    signer = next(
        p for p in monitors if (p.verifier.name, p.verifier.key_hash) == (sig.name, sig.key_hash)
    )
    if cert.get("certifier") != signer.key_id:
        raise IntegrityError(
            f"the certificate names {cert.get('certifier')} but {signer.key_id} signed"
        )
    s.cert, s.cert_bytes, s.certifier = cert, body, signer
    return f"signed by {signer.name} ({signer.key_id}, monitor)"


def _checkpoints(s: _Bundle) -> str:
    sampling, n1 = open_cosigned(s.members[b.SAMPLING], s.trust, "sampling")
    evidence, n2 = open_cosigned(s.members[b.EVIDENCE], s.trust, "evidence")
    bound = s.cert["checkpoint"]
    root = base64.b64encode(sampling.root).decode()
    if bound != {"origin": sampling.origin, "size": sampling.size, "root": root}:
        raise IntegrityError("the certificate is not bound to the sampling checkpoint")
    if evidence.origin != sampling.origin or evidence.size < sampling.size:
        raise IntegrityError("the evidence checkpoint does not extend the sampling checkpoint")
    proof = b.decode_consistency(s.members[b.CONSISTENCY])
    verify_consistency(sampling.size, evidence.size, sampling.root, evidence.root, proof)
    s.sampling, s.evidence = sampling, evidence
    return (
        f"{sampling.origin}: sampling size {sampling.size} ({n1} cosignatures), evidence size "
        f"{evidence.size} ({n2} cosignatures), consistent"
    )


def _committed(s: _Bundle) -> str:
    if sha256_ref(s.members[b.EVENTS]) != s.cert["evidence"]["events"]:
        raise IntegrityError("evidence/events.jsonl is not the evidence the certificate commits to")
    if sha256_ref(s.members[b.FRAME]) != s.cert["frame"]["sha256"]:
        raise IntegrityError("frame.jsonl is not the frame the certificate names")
    return "events and frame are the ones the certificate commits to (SHA-256)"


# -- 4-6: entries, events, captures -------------------------------------------------------------
def _inclusion(s: _Bundle) -> str:
    assert s.evidence is not None
    for r in b.decode_entries(s.members[b.ENTRIES]):
        if r.index >= s.evidence.size:
            raise IntegrityError(f"log entry {r.index} is beyond the evidence checkpoint")
        try:
            verify_inclusion(leaf_hash(r.entry), r.index, s.evidence.size, r.proof, s.evidence.root)
        except IntegrityError as e:
            raise IntegrityError(f"log entry {r.index}: {e.message}") from e
        try:
            parsed = orjson.loads(r.entry)
        except orjson.JSONDecodeError as e:
            raise IntegrityError(f"log entry {r.index} is not JSON") from e
        if not isinstance(parsed, dict) or not _canonical(parsed, r.entry):
            raise IntegrityError(f"log entry {r.index} is not RFC 8785 JSON")
        s.entries[r.index] = parsed
        s.raw_entries[r.index] = r.entry
    return f"{len(s.entries)} entries included under the evidence checkpoint"


def _events(s: _Bundle) -> str:
    s.records = b.decode_events(s.members[b.EVENTS])
    for r in s.records:
        where = f"event at log index {r.index}"
        doc = document_from_json(r.event, where)
        if doc.kind != "event" or len(doc.events) != 1:
            raise IntegrityError(f"{where} is not a single EPCIS event")
        core = {k: v for k, v in r.event.items() if k != "@context"}
        if standalone_event(core, doc.namespaces) != r.event:
            raise IntegrityError(f"{where}: its @context is not the standalone form")
        prefixes = doc.prefixes()
        raw = digest(core, prefixes)
        ident = hash_id_from_digest(raw)
        entry = s.entries.get(r.index)
        if entry is None or entry.get("kind") != "event":
            raise IntegrityError(f"{where}: no event log entry for it in the bundle")
        if entry.get("event") != ident:
            raise IntegrityError(
                f"{where}: hash {ident} differs from the logged {entry.get('event')}"
            )
        if entry.get("errorDeclaration"):
            raise IntegrityError(f"{where} is an error declaration")
        s.event_ids[r.index] = ident
        s.digests[r.index] = raw
        s.prefixes[r.index] = prefixes
    return f"{len(s.records)} events: CBV 2.0 hashes recomputed equal their log entries"


def _captures(s: _Bundle) -> str:
    by_id = {e.get("capture"): i for i, e in s.entries.items() if e.get("kind") == "capture"}
    seen: set[int] = set()
    for r in s.records:
        entry = s.entries[r.index]
        where = f"event at log index {r.index}"
        cap_index = by_id.get(entry.get("capture"))
        if cap_index is None:
            raise IntegrityError(f"{where}: its capture entry is not in the bundle")
        cap = s.entries[cap_index]
        # The store writes the verifier key up to its last "+" (which may fall inside the
        # base64 key); its first two fields are always the key ID "name+hash".
        party = s.trust.party("+".join(str(cap.get("party")).split("+")[:2]))
        if party is None:
            raise IntegrityError(f"{where}: captured by {cap.get('party')}, not a trusted party")
        count, position = cap.get("count"), entry.get("index")
        if type(count) is not int or type(position) is not int or cap_index > r.index:
            raise IntegrityError(f"capture entry {cap_index} is malformed")
        try:
            root = base64.b64decode(str(cap.get("root")), validate=True)
        except binascii.Error as e:
            raise IntegrityError(f"capture entry {cap_index}: root is not base64") from e
        if cap_index not in seen:
            text = capture_text(str(cap["capture"]), count, root)
            note = f"{text}\n— {party.verifier.name} {cap.get('signature')}\n".encode()
            try:
                open_note(note, [party.verifier])
            except IntegrityError as e:
                raise IntegrityError(f"capture entry {cap_index}: {e.message}") from e
            seen.add(cap_index)
        leaf = leaf_hash(s.digests[r.index])
        try:
            verify_inclusion(leaf, position, count, r.capture_proof, root)
        except IntegrityError as e:
            raise IntegrityError(f"{where}: capture tree: {e.message}") from e
        s.signers[r.index] = party
    return (
        f"{len(seen)} capture signatures by trusted parties; "
        f"{len(s.records)} capture-tree inclusions"
    )


# -- 7-10: nonce, frame, sample, observations ---------------------------------------------------
def _entry(s: _Bundle, index: Any, kind: str) -> dict[str, Any]:
    if type(index) is not int or index not in s.raw_entries:
        raise IntegrityError(f"the {kind} log entry ({index}) is not in the bundle")
    return parse_entry(s.raw_entries[index], kind)


def _same_scope(s: _Bundle, entry: dict[str, Any]) -> None:
    if (entry["programme"], entry["period"]) != (s.cert["programme"], s.cert["period"]):
        raise IntegrityError(f"the {entry['kind']} entry is for another programme or period")


def _nonce(s: _Bundle) -> str:
    assert s.sampling is not None
    ref = s.cert["nonce"]
    commit = _entry(s, ref["commitIndex"], NONCE_COMMIT)
    reveal = _entry(s, ref["revealIndex"], NONCE_REVEAL)
    donors = s.trust.with_role("donor")
    for kind, entry in ((NONCE_COMMIT, commit), (NONCE_REVEAL, reveal)):
        _same_scope(s, entry)
        open_entry(note_text(kind, entry), entry, donors)
    if commit["party"] != reveal["party"]:
        raise IntegrityError("the nonce was committed and revealed by different donors")
    if not ref["commitIndex"] < s.sampling.size <= ref["revealIndex"]:
        raise IntegrityError(
            "the nonce must be committed before the sampling checkpoint and revealed after it"
        )
    root = base64.b64encode(s.sampling.root).decode()
    expected = {"origin": s.sampling.origin, "size": s.sampling.size, "root": root}
    if reveal["checkpoint"] != expected:
        raise IntegrityError("the nonce was revealed for another checkpoint")
    try:
        nonce = bytes.fromhex(str(reveal["nonce"]))
    except ValueError as e:
        raise IntegrityError("the revealed nonce is not hex") from e
    if len(nonce) != 32 or sha256_ref(nonce) != commit["commitment"]:
        raise IntegrityError("the revealed nonce does not match its commitment")
    if ref["value"] != nonce.hex():
        raise IntegrityError("the certificate states another nonce than the one revealed")
    s.nonce = nonce
    return f"committed at {ref['commitIndex']}, revealed at {ref['revealIndex']}, matches"


def _frame(s: _Bundle) -> str:
    assert s.sampling is not None
    assert s.certifier is not None
    ref = s.cert["frame"]
    entry = _entry(s, ref["logIndex"], FRAME)
    _same_scope(s, entry)
    signer = open_entry(note_text(FRAME, entry), entry, [s.certifier.verifier])
    del signer
    if not ref["logIndex"] < s.sampling.size:
        raise IntegrityError("the frame was not committed before the sampling checkpoint")
    data = s.members[b.FRAME]
    if sha256_ref(data) != entry["frame"] or ref["sha256"] != entry["frame"]:
        raise IntegrityError("frame.jsonl is not the frame committed in the log")
    frame = Frame.decode(data)
    if (frame.programme, frame.period) != (s.cert["programme"], s.cert["period"]):
        raise IntegrityError("the frame is for another programme or period")
    if frame.log_size > ref["logIndex"]:
        raise IntegrityError("the frame names entries logged after its own commitment")
    s.frame = frame
    return f"{len(frame.units):,} units committed at log index {ref['logIndex']} by the certifier"


def _sample(s: _Bundle) -> str:
    assert s.sampling is not None
    assert s.frame is not None
    seed = derive_seed(s.sampling.root, s.nonce)
    if s.cert["seed"] != seed.hex():
        raise IntegrityError("the certificate's seed is not SHA-256(root ‖ nonce)")
    sample = draw_sample(s.frame, seed)
    if sample.encode() != s.members[b.SAMPLE]:
        raise IntegrityError("sample.json differs from the draws recomputed from the seed")
    s.sample = sample
    return f"seed {seed.hex()[:16]}…: {len(sample.draws)} draws recomputed equal"


def _observations(s: _Bundle) -> str:
    assert s.sample is not None
    assert s.frame is not None
    assert s.evidence is not None
    reveal_index = s.cert["nonce"]["revealIndex"]
    drawn = s.sample.first_draw
    for r in s.records:
        party = s.signers[r.index]
        if r.index in drawn:
            unit = s.frame.by_index[r.index]
            if party.role not in _CLAIM_ROLES[unit.kind]:
                raise IntegrityError(
                    f"the {unit.kind} claim at log index {r.index} was recorded by a "
                    f"{party.role} ({party.name})"
                )
            s.claims[r.index] = (s.event_ids[r.index], claim_of(r.event, s.prefixes[r.index]))
            continue
        obs = observation_of(r.event, s.prefixes[r.index])
        if obs is None:
            raise IntegrityError(
                f"event at log index {r.index} is neither drawn nor an observation"
            )
        if party.role != "monitor":
            raise IntegrityError(f"observation at log index {r.index} is by a {party.role}")
        if r.index <= reveal_index:
            raise IntegrityError(f"observation at log index {r.index} predates the nonce reveal")
        s.observed.append(ObservedEvent(r.index, s.event_ids[r.index], obs))
    missing = [i for i in drawn if i not in s.claims]
    if missing:
        raise IntegrityError(
            f"the sampled unit at log index {missing[0]} has no event in the bundle"
        )
    return f"{len(s.observed)} monitor observations for {len(drawn)} sampled units"


# -- 11-13: statistics, certificate entry, html -------------------------------------------------
def _statistics(s: _Bundle) -> str:
    assert s.frame is not None
    assert s.sample is not None
    assert s.sampling is not None
    evaluation = evaluate(s.frame, s.sample, s.claims, s.observed, strict=True)
    cert = s.cert
    expected = certificate_body(
        programme=cert["programme"],
        period=cert["period"],
        issued=cert["issued"],
        certifier=cert["certifier"],
        sampling=s.sampling,
        frame=s.frame,
        frame_index=cert["frame"]["logIndex"],
        frame_sha256=cert["frame"]["sha256"],
        commit_index=cert["nonce"]["commitIndex"],
        reveal_index=cert["nonce"]["revealIndex"],
        nonce=s.nonce,
        evaluation=evaluation,
        events_sha256=cert["evidence"]["events"],
        doses_shipped=cert["doses"]["shipped"],
        findings=cert["findings"]["items"],
    )
    diff = _difference(expected, cert)
    if diff is not None:
        raise IntegrityError(diff)
    sessions = cert.get("sessions")
    if sessions:
        return (
            f"sessions {sessions['verified']}/{sessions['draws']} verified, lower bound "
            f"{sessions['lowerBound']}, {sessions['certified']:,} doses; "
            f"{len(sessions['strata'])} LQAS decisions recomputed equal"
        )
    return "recomputed equal"


def _difference(expected: Any, given: Any, path: str = "certificate") -> str | None:
    if isinstance(expected, dict) and isinstance(given, dict):
        for key in sorted(set(expected) | set(given)):
            if key not in given:
                return f"{path}.{key} is missing"
            if key not in expected:
                return f"{path}.{key} is not part of the statement"
            found = _difference(expected[key], given[key], f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(expected, list) and isinstance(given, list):
        if len(expected) != len(given):
            return f"{path} has {len(given)} items, recomputed {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, given, strict=True)):
            found = _difference(e, g, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    if expected != given or type(expected) is not type(given):
        return f"{path} is {given!r} in the certificate, recomputed {expected!r}"
    return None


def _logged(s: _Bundle) -> str:
    assert s.certifier is not None
    found = [i for i, e in s.entries.items() if e.get("kind") == CERTIFICATE]
    if len(found) != 1:
        raise IntegrityError(f"the bundle has {len(found)} certificate log entries, not 1")
    entry = parse_entry(s.raw_entries[found[0]], CERTIFICATE)
    _same_scope(s, entry)
    if entry["certificate"] != "sha256:" + hashlib.sha256(s.cert_bytes).hexdigest():
        raise IntegrityError("the logged certificate digest is not this certificate's")
    open_entry(s.cert_bytes.decode() + "\n", entry, [s.certifier.verifier])
    return f"certificate entry at log index {found[0]}"


def _html(s: _Bundle) -> str:
    if render_html(s.cert) != s.members[b.HTML]:
        raise IntegrityError("certificate.html is not the rendering of the signed certificate")
    return "certificate.html renders the signed statement exactly"
