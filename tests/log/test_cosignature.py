"""C2SP tlog-cosignature (cosignature/v1): key IDs, timestamped signatures, signed message."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dosetrail.errors import MalformedInput
from dosetrail.log.checkpoint import Checkpoint, sign_checkpoint
from dosetrail.log.cosignature import (
    CosignatureVerifier,
    Cosigner,
    cosignature_message,
    cosignature_timestamp,
)
from dosetrail.log.note import Note, Signer, open_note, parse_note

V = json.loads((Path(__file__).parent / "data" / "note_vectors.json").read_text())


@pytest.mark.parametrize("vkey", V["cosigner_vkeys"])
def test_published_cosigner_keys_parse(vkey: str) -> None:
    # transparency-dev/formats: a 0x01 key converts; a native 0x04 key's hash is checked.
    v = CosignatureVerifier.from_key(vkey)
    if base64.b64decode(vkey.split("+")[2])[0] == 0x04:
        assert v.verifier_key == vkey


def test_published_cosignature_timestamps() -> None:
    ts = V["cosignature_timestamp"]
    sig = parse_note(b"x\n\n\xe2\x80\x94 w " + ts["base64"].encode() + b"\n")[1][0]
    assert cosignature_timestamp(sig) == ts["timestamp"]
    example = V["c2sp_example_cosignature"]
    sig = parse_note(b"x\n\n" + example["line"].encode() + b"\n")[1][0]
    assert cosignature_timestamp(sig) == example["timestamp"]


def test_signed_message_layout() -> None:
    # C2SP tlog-cosignature "Ed25519 signed message", the spec's example.
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + body.encode()
    )
    with pytest.raises(MalformedInput):
        cosignature_message(body, -1)


def test_cosign_and_verify_alongside_the_log_signature() -> None:
    log = Signer.generate("example.com/log")
    witness = Cosigner(Signer.generate("witness.example/w1"))
    cp = Checkpoint("example.com/log", 7, bytes(32))
    signed = sign_checkpoint(cp, [log])
    cosig = witness.cosign(cp.body(), 1700000000)
    assert cosignature_timestamp(cosig) == 1700000000
    assert len(cosig.signature) == 72
    full = signed + cosig.line().encode()
    note = open_note(full, [log.verifier, CosignatureVerifier.from_key(witness.verifier_key)])
    assert [s.name for s in note.sigs] == ["example.com/log", "witness.example/w1"]


def test_plain_note_key_verifies_cosignatures_but_not_as_a_note_signature() -> None:
    signer = Signer.generate("w")
    cosig = Cosigner(signer).cosign("a\n", 1)
    assert CosignatureVerifier.from_key(signer.verifier_key).verify(b"a\n", cosig.signature)
    assert cosig.key_hash != signer.key_hash  # 0x04 key ID differs from the 0x01 one


def test_tampered_cosignature_fails() -> None:
    w = Cosigner(Signer.generate("w"))
    sig = w.cosign("a\n", 5).signature
    v = w.verifier
    assert v.verify(b"a\n", sig)
    assert not v.verify(b"b\n", sig)
    assert not v.verify(b"a\n", (6).to_bytes(8, "big") + sig[8:])  # the timestamp is signed
    assert not v.verify(b"a\n", sig[:-1])
    assert not v.verify(b"a\n", (2**63).to_bytes(8, "big") + sig[8:])


def test_cosignature_timestamp_rejects_plain_signatures() -> None:
    s = Signer.generate("a")
    note: Note = open_note(sign_checkpoint(Checkpoint("a", 1, bytes(32)), [s]), [s.verifier])
    with pytest.raises(MalformedInput, match="not a cosignature"):
        cosignature_timestamp(note.sigs[0])
