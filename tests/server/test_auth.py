"""RFC 9421 signatures: the signature base and parameters against the RFC's own example."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

from dosetrail.errors import MalformedInput
from dosetrail.log.note import Verifier, key_hash
from dosetrail.server.auth import SignedRequest, signature_base
from dosetrail.server.sfv import parse_byte_dictionary, parse_signature_input

# RFC 9421 Appendix B.1.4 (test-key-ed25519) and B.2.6 (signing a request using ed25519).
TEST_KEY = (
    b"-----BEGIN PUBLIC KEY-----\n"
    b"MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n"
    b"-----END PUBLIC KEY-----\n"
)
SIGNATURE_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1"
    "u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
)
BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
)


def test_rfc9421_b26_signature_base_and_signature() -> None:
    """RFC 9421 §2.5 signature base, §3.3.6 Ed25519: the published example verifies."""
    request = SignedRequest(
        "POST",
        "/foo",
        "param=Value&Pet=dog",
        {
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Length": "18",
        },
        b'{"hello": "world"}',
    )
    (spec,) = parse_signature_input(SIGNATURE_INPUT)
    assert spec.label == "sig-b26"
    assert signature_base(request, spec).decode() == BASE
    signature = parse_byte_dictionary(SIGNATURE, "Signature")["sig-b26"]
    raw = load_pem_public_key(TEST_KEY).public_bytes(Encoding.Raw, PublicFormat.Raw)
    verifier = Verifier("test", raw, key_hash("test", 1, raw))
    assert verifier.verify(BASE.encode(), signature)
    assert not verifier.verify(BASE.replace("/foo", "/bar").encode(), signature)


def test_signature_input_round_trips_and_refuses_junk() -> None:
    text = 'dt=("@method" "@path");created=1;keyid="a\\"b";nonce="n"'
    (spec,) = parse_signature_input(text)
    assert spec.param("keyid") == 'a"b'
    assert f"dt={spec.serialize()}" == text
    for bad in ('dt=("@method"', "dt=(@method)", 'dt=("x");created=abc', "=()", 'dt=("\x01")'):
        with pytest.raises(MalformedInput):
            parse_signature_input(bad)
    with pytest.raises(MalformedInput):
        parse_byte_dictionary("sig=:not base64!:", "Signature")
    assert base64.b64encode(parse_byte_dictionary("a=:AAE=:, b=:AQ==:", "x")["b"]) == b"AQ=="
