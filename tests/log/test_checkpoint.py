"""C2SP tlog-checkpoint: body format and signed checkpoints; errors name the line."""

from __future__ import annotations

import pytest

from dosetrail.errors import IntegrityError
from dosetrail.log.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from dosetrail.log.note import Signer

ROOT = bytes(range(32))


def test_body_round_trip_with_extensions() -> None:
    cp = Checkpoint("example.com/log", 20852163, ROOT, ("ext one",))
    assert cp.body() == (
        "example.com/log\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\n"
    )
    assert Checkpoint.parse(cp.body()) == cp


def test_c2sp_example_checkpoint_body_parses() -> None:
    # The example in C2SP tlog-checkpoint / tlog-cosignature.
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    cp = Checkpoint.parse(body)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.body() == body


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("o\n1\n", "needs at least 3"),
        ("o\n1\nAAAA", "end with a newline"),
        ("\n1\nAAAA\n", "line 1"),
        ("o\n01\nAAAA\n", "line 2"),
        ("o\n-1\nAAAA\n", "line 2"),
        ("o\n1\n!!!\n", "line 3: root hash is not base64"),
        ("o\n1\nAAAA\n", "line 3: root hash is 3 bytes"),
        (f"o\n1\n{Checkpoint('o', 1, ROOT).body().split(chr(10))[2]}\n\n", "line 4"),
    ],
)
def test_malformed_checkpoints_name_the_line(body: str, error: str) -> None:
    with pytest.raises(IntegrityError, match=error):
        Checkpoint.parse(body)


def test_signed_checkpoint_and_origin_pinning() -> None:
    signer = Signer.generate("example.com/log")
    data = sign_checkpoint(Checkpoint("example.com/log", 5, ROOT), [signer])
    signed = open_checkpoint(data, [signer.verifier], origin="example.com/log")
    assert signed.checkpoint.size == 5
    with pytest.raises(IntegrityError, match="line 1: origin"):
        open_checkpoint(data, [signer.verifier], origin="other")
    with pytest.raises(IntegrityError, match="invalid signature"):
        open_checkpoint(data.replace(b"\n5\n", b"\n6\n"), [signer.verifier])
