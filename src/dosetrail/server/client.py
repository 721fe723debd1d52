"""The client side of the server's signatures, for parties' tools, tests and benchmarks.

* :func:`sign_capture` — the C2SP signed note over ``capture_text`` that a party sends with a
  capture (``Dosetrail-Capture-Signature``, base64), so the server stores the party's own
  signature and never signs for it (DESIGN.md, "Capture").
* :func:`signed_headers` — RFC 9421 ``Signature-Input`` / ``Signature`` (and RFC 9530
  ``Content-Digest``) headers that make a request as the party.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from dosetrail.epcis import digest, read_document
from dosetrail.log.merkle import leaf_hash, root_of
from dosetrail.log.note import Signer, sign_note
from dosetrail.server.auth import SignedRequest, content_digest, signature_base
from dosetrail.server.sfv import SignatureInput
from dosetrail.store.capture import capture_text

__all__ = ["CAPTURE_SIGNATURE_HEADER", "capture_header", "sign_capture", "signed_headers"]

CAPTURE_SIGNATURE_HEADER = "Dosetrail-Capture-Signature"


def sign_capture(signer: Signer, body: bytes) -> bytes:
    """The party's signed note over the capture text of document ``body``."""
    doc = read_document(body)
    prefixes = doc.prefixes()
    digests = [digest(ev, prefixes) for ev in doc.events]
    root = root_of([leaf_hash(d) for d in digests])
    text = capture_text(hashlib.sha256(body).hexdigest(), len(digests), root)
    return sign_note(text, [signer])


def capture_header(signer: Signer, body: bytes) -> dict[str, str]:
    """``{Dosetrail-Capture-Signature: base64(note)}`` for capturing ``body``."""
    return {CAPTURE_SIGNATURE_HEADER: base64.b64encode(sign_capture(signer, body)).decode()}


def signed_headers(
    signer: Signer,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    created: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """RFC 9421 headers for a request to ``target`` (path and query, as sent) with ``body``."""
    path, _, query = target.partition("?")
    headers = {"Content-Digest": content_digest(body)} if body else {}
    components = ("@method", "@path", "@query", *(("content-digest",) if body else ()))
    spec = SignatureInput(
        "dt",
        components,
        (
            ("created", int(time.time()) if created is None else created),
            ("keyid", signer.name),
            ("nonce", nonce or secrets.token_urlsafe(18)),
            ("alg", "ed25519"),
        ),
    )
    base = signature_base(SignedRequest(method, path, query, headers, body), spec)
    signature = base64.b64encode(signer.sign(base)).decode()
    return {
        **headers,
        "Signature-Input": f"dt={spec.serialize()}",
        "Signature": f"dt=:{signature}:",
    }
