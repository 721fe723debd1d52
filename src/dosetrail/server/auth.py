"""Who is asking: RFC 9421 HTTP Message Signatures with each party's Ed25519 key.

A request is made as a registered party by signing it (RFC 9421 §3.1, algorithm ``ed25519``)
with the party's own key — the one the ledger holds the verifier key of; the server never sees
a private key. The signature must cover ``@method``, ``@path`` and ``@query``, and, when there is
a body, ``content-digest`` (RFC 9530 ``sha-256``, checked against the body), and carry the
parameters ``keyid`` (the party's name), ``created`` (within ``signature_window_s`` of the
server's clock) and ``nonce``. A nonce is accepted once: it is recorded in ``request_nonce``
(durably, so a replay is refused after a restart too) and forgotten after twice the window, when
``created`` alone refuses the request. Failures are :class:`Unauthenticated` (401); a party
acting outside its role is the ledger's :class:`~dosetrail.errors.AuthError` (403).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dosetrail.errors import AuthError, DosetrailError
from dosetrail.server.problems import Unauthenticated
from dosetrail.server.sfv import SignatureInput, parse_byte_dictionary, parse_signature_input
from dosetrail.server.tables import request_nonce
from dosetrail.store.engine import read_tx, write_tx
from dosetrail.store.parties import Party, find_party

__all__ = ["REQUIRED", "SignedRequest", "content_digest", "signature_base", "verify_request"]

REQUIRED = ("@method", "@path", "@query")
_NONCE = re.compile(r"[A-Za-z0-9_\-+/=.]{16,128}")
_PRUNE_EVERY = 1024


class SignedRequest:
    """The parts of an HTTP request a signature can cover (RFC 9421 §2)."""

    def __init__(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.query = query
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def component(self, name: str) -> str:
        if name == "@method":
            return self.method
        if name == "@path":
            return self.path
        if name == "@query":
            return "?" + self.query
        if name == "@authority":
            return self.headers.get("host", "").strip().lower()
        if name.startswith("@"):
            raise Unauthenticated(f"signature component {name!r} is not supported here")
        value = self.headers.get(name)
        if value is None:
            raise Unauthenticated(f"the signature covers header {name!r}, which is absent")
        return value.strip()


def content_digest(body: bytes) -> str:
    """RFC 9530 ``Content-Digest`` value for ``body`` (SHA-256)."""
    import base64

    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def signature_base(request: SignedRequest, spec: SignatureInput) -> bytes:
    """RFC 9421 §2.5 signature base: one line per component, then ``@signature-params``."""
    lines = [f'"{c}": {request.component(c)}' for c in spec.components]
    lines.append(f'"@signature-params": {spec.serialize()}')
    return "\n".join(lines).encode()


def _spec(request: SignedRequest) -> tuple[SignatureInput, bytes]:
    raw_input = request.headers.get("signature-input")
    raw_sig = request.headers.get("signature")
    if not raw_input or not raw_sig:
        raise Unauthenticated(
            "sign the request as a party: RFC 9421 Signature-Input and Signature headers "
            "(Ed25519, keyid = party name; see docs/server.md)"
        )
    try:
        inputs = parse_signature_input(raw_input)
        sigs = parse_byte_dictionary(raw_sig, "Signature")
    except DosetrailError as e:
        raise Unauthenticated(e.message) from e
    spec = next((i for i in inputs if i.label in sigs), None)
    if spec is None:
        raise Unauthenticated("no Signature member matches a Signature-Input label")
    return spec, sigs[spec.label]


def _check_params(request: SignedRequest, spec: SignatureInput, window: int, now: int) -> None:
    missing = [c for c in REQUIRED if c not in spec.components]
    if request.body and "content-digest" not in spec.components:
        missing.append("content-digest")
    if missing:
        raise Unauthenticated(f"the signature must cover {', '.join(missing)}")
    if request.body:
        given = parse_byte_dictionary(request.headers.get("content-digest", ""), "Content-Digest")
        if given.get("sha-256") != hashlib.sha256(request.body).digest():
            raise Unauthenticated("Content-Digest (sha-256) does not match the body")
    alg = spec.param("alg")
    if alg is not None and alg != "ed25519":
        raise Unauthenticated(f"signature algorithm {alg!r}: only ed25519 is accepted")
    created, nonce, keyid = spec.param("created"), spec.param("nonce"), spec.param("keyid")
    if not isinstance(created, int) or not isinstance(keyid, str) or not isinstance(nonce, str):
        raise Unauthenticated("the signature needs created, keyid and nonce parameters")
    if abs(now - created) > window:
        raise Unauthenticated(f"signature created {now - created} s ago: outside ±{window} s")
    expires = spec.param("expires")
    if isinstance(expires, int) and expires < now:
        raise Unauthenticated("the signature has expired")
    if not _NONCE.fullmatch(nonce):
        raise Unauthenticated("nonce must be 16–128 characters of [A-Za-z0-9_-+/=.]")


class _Counter:
    inserted = 0


def verify_request(
    engine: Engine, request: SignedRequest, window: int, now: int | None = None
) -> Party:
    """The party that signed ``request``; :class:`Unauthenticated` if none did (or a replay)."""
    now = int(time.time()) if now is None else now
    spec, signature = _spec(request)
    _check_params(request, spec, window, now)
    name = str(spec.param("keyid"))
    try:
        with read_tx(engine) as conn:
            who = find_party(conn, name)
    except AuthError as e:
        raise Unauthenticated(f"keyid {name!r} is not a registered party") from e
    if not who.verifier.verify(signature_base(request, spec), signature):
        raise Unauthenticated(f"the signature does not verify with party {name!r}'s key")
    _consume_nonce(engine, who, str(spec.param("nonce")), now, window)
    return who


def _consume_nonce(engine: Engine, who: Party, nonce: str, now: int, window: int) -> None:
    micros = now * 1_000_000
    try:
        with write_tx(engine) as conn:
            conn.execute(
                sa.insert(request_nonce).values(nonce=nonce, party_id=who.id, created=micros)
            )
            _Counter.inserted += 1
            if _Counter.inserted % _PRUNE_EVERY == 0:
                old = micros - 2 * window * 1_000_000
                conn.execute(sa.delete(request_nonce).where(request_nonce.c.created < old))
    except sa.exc.IntegrityError as e:
        raise Unauthenticated("this request was already made (nonce replayed)") from e
