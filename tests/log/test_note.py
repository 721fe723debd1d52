"""C2SP signed-note with Ed25519, checked against golang.org/x/mod/sumdb/note vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dosetrail.errors import IntegrityError, MalformedInput, NotFound
from dosetrail.log.note import (
    Signature,
    Signer,
    Verifier,
    check_note_text,
    key_hash,
    open_note,
    sign_note,
)

V = json.loads((Path(__file__).parent / "data" / "note_vectors.json").read_text())


def test_go_private_key_gives_go_verifier_key() -> None:
    signer = Signer.from_key(V["signer_key"])
    assert signer.name == "PeterNeumann"
    assert signer.verifier_key == V["verifier_key"]
    assert signer.private_key == V["signer_key"]


def test_signing_reproduces_go_signed_note() -> None:
    # Ed25519 is deterministic, so the signature line must be byte-identical to Go's.
    assert sign_note(V["text"], [Signer.from_key(V["signer_key"])]) == V["signed"].encode()


def test_open_go_signed_note() -> None:
    note = open_note(V["signed"].encode(), [Verifier.from_key(V["verifier_key"])])
    assert note.text == V["text"]
    assert [s.name for s in note.sigs] == ["PeterNeumann"]
    assert note.encode() == V["signed"].encode()


@pytest.mark.parametrize("vkey", V["bad_verifier_keys"])
def test_go_bad_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(MalformedInput):
        Verifier.from_key(vkey)


def test_key_hash_definition() -> None:
    v = Verifier.from_key(V["verifier_key"])
    assert key_hash(v.name, 1, v.public_key) == 0xC74F20A3


def test_generate_round_trip_and_multiple_signatures(tmp_path: Path) -> None:
    a, b = Signer.generate("a.example/log"), Signer.generate("b.example/w")
    path = tmp_path / "a.key"
    a.save(path)
    assert Signer.load(path).verifier_key == a.verifier_key
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(Exception, match="cannot write key file"):
        a.save(path)  # never overwrite a key
    msg = sign_note("hello\nworld\n", [a, b])
    both = open_note(msg, [a.verifier, b.verifier])
    assert [s.name for s in both.sigs] == ["a.example/log", "b.example/w"]
    only_a = open_note(msg, [a.verifier])
    assert [s.name for s in only_a.unverified_sigs] == ["b.example/w"]  # unknown: ignored


def test_missing_key_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        Signer.load(tmp_path / "nope.key")


def test_no_trusted_signature_is_an_error() -> None:
    a, b = Signer.generate("a"), Signer.generate("b")
    with pytest.raises(IntegrityError, match="no signature from a trusted key"):
        open_note(sign_note("x\n", [a]), [b.verifier])


def test_same_name_other_key_is_unknown_not_valid() -> None:
    a, impostor = Signer.generate("a"), Signer.generate("a")
    with pytest.raises(IntegrityError, match="no signature from a trusted key"):
        open_note(sign_note("x\n", [impostor]), [a.verifier])


def test_tampered_text_fails_the_signature() -> None:
    a = Signer.generate("a")
    msg = sign_note("size 10\n", [a]).replace(b"size 10", b"size 11")
    with pytest.raises(IntegrityError, match="invalid signature for key a\\+"):
        open_note(msg, [a.verifier])


def test_forged_signature_bytes_fail() -> None:
    a = Signer.generate("a")
    bad = Signature("a", a.key_hash, bytes(64)).line()
    with pytest.raises(IntegrityError, match="invalid signature"):
        open_note(b"x\n\n" + bad.encode(), [a.verifier])


@pytest.mark.parametrize(
    ("text", "error"),
    [("no newline", "end with a newline"), ("tab\there\n", "U\\+0009"), ("nul\x00\n", "U\\+0000")],
)
def test_note_text_rules(text: str, error: str) -> None:
    with pytest.raises(MalformedInput, match=error):
        check_note_text(text)
    with pytest.raises(MalformedInput):
        sign_note(text, [Signer.generate("a")])


@pytest.mark.parametrize(
    ("msg", "error"),
    [
        (b"x\n", "no blank line"),
        (b"x\n\n- a AAAAAAA=\n", "does not start with"),
        (b"x\n\n\xe2\x80\x94 a !!!\n", "malformed"),
        (b"x\n\n\xe2\x80\x94 a AAAA\n", "too short"),
        (b"x\n\n\xe2\x80\x94 a AAAAAAA=", "end with a newline"),
        (b"\xff\n\n", "not valid UTF-8"),
        (b"x\r\n\n", "control character"),
    ],
)
def test_malformed_notes_are_rejected(msg: bytes, error: str) -> None:
    with pytest.raises(IntegrityError, match=error):
        open_note(msg, [Signer.generate("a").verifier])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb"])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(MalformedInput, match="invalid key name"):
        Signer.generate(name)


@pytest.mark.parametrize(
    "skey",
    [
        "PRIVATE+KEY+x+00000000",
        "PUBLIC+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD",
    ],
)
def test_bad_private_keys(skey: str) -> None:
    with pytest.raises(MalformedInput):
        Signer.from_key(skey)
