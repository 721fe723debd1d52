"""C2SP tlog-witness add-checkpoint: cosign only consistent extensions of what was cosigned."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from dosetrail.errors import Conflict, IntegrityError, MalformedInput, NotFound
from dosetrail.log.checkpoint import Checkpoint, sign_checkpoint
from dosetrail.log.cosignature import CosignatureVerifier
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.merkle import consistency_proof, tree_root
from dosetrail.log.note import Signer, open_note
from dosetrail.log.witness import AddCheckpointRequest, Witness, request_from_tiles
from tests.log.helpers import forge_tiles
from tests.log.trees import entries, node_reader

ORIGIN = "example.com/log"
C2SP_EXAMPLE = (
    "old 20852014\n"
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
    "\n"
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
    "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)


@pytest.fixture
def log() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    return Witness.init(tmp_path / "w", "witness.example/w1")


def _signed(log: Signer, size: int, n_entries: int | None = None) -> bytes:
    node = node_reader(n_entries or size)
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree_root(size, node)), [log])


def _request(log: Signer, old: int, new: int) -> AddCheckpointRequest:
    proof = consistency_proof(old, new, node_reader(new))
    return AddCheckpointRequest(old, tuple(proof), _signed(log, new))


def test_c2sp_example_request_parses_and_round_trips() -> None:
    req = AddCheckpointRequest.parse(C2SP_EXAMPLE.encode())
    assert req.old_size == 20852014
    assert len(req.proof) == 4
    assert req.checkpoint.startswith(b"example.com/behind-the-sofa\n20852163\n")
    assert req.encode() == C2SP_EXAMPLE.encode()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"old 1\n", "no blank line"),
        (b"new 1\n\ncp", "line 1"),
        (b"old 01\n\ncp", "line 1"),
        (b"old 1\n!!\n\ncp", "line 2: not base64"),
        (b"old 1\nAAAA\n\ncp", "line 2: not a 32-byte hash"),
        (b"old 1\n" + b"\n".join([base64.b64encode(bytes(32))] * 64) + b"\n\ncp", "more than 63"),
    ],
)
def test_malformed_requests(body: bytes, error: str) -> None:
    with pytest.raises(MalformedInput, match=error):
        AddCheckpointRequest.parse(body)


def test_cosigns_a_first_checkpoint_then_consistent_extensions(
    witness: Witness, log: Signer
) -> None:
    first = AddCheckpointRequest(0, (), _signed(log, 10))
    sig = witness.add_checkpoint(first, log.verifier_key, now=1700000000)
    cosigned = _signed(log, 10) + sig.line().encode()
    verifier = CosignatureVerifier.from_key(witness.cosigner.verifier_key)
    assert [s.name for s in open_note(cosigned, [verifier]).sigs] == ["witness.example/w1"]
    witness.add_checkpoint(_request(log, 10, 300), log.verifier_key)
    witness.add_checkpoint(_request(log, 300, 300), log.verifier_key)  # same head again: fine
    latest = witness.latest(ORIGIN)
    assert latest is not None
    assert latest[0].size == 300
    # The state survives a restart.
    assert Witness.open(witness.state_dir).latest(ORIGIN) == latest


def test_refuses_stale_old_size(witness: Witness, log: Signer) -> None:
    witness.add_checkpoint(_request(log, 0, 10), log.verifier_key)
    with pytest.raises(Conflict, match=r"last cosigned 'example\.com/log' at size 10"):
        witness.add_checkpoint(_request(log, 5, 20), log.verifier_key)


def test_refuses_rollback(witness: Witness, log: Signer) -> None:
    witness.add_checkpoint(_request(log, 0, 10), log.verifier_key)
    with pytest.raises(Conflict, match="rollback"):
        witness.add_checkpoint(AddCheckpointRequest(10, (), _signed(log, 7)), log.verifier_key)


def test_refuses_fork_at_the_same_size(witness: Witness, log: Signer) -> None:
    witness.add_checkpoint(_request(log, 0, 10), log.verifier_key)
    other = sign_checkpoint(Checkpoint(ORIGIN, 10, bytes(32)), [log])
    with pytest.raises(IntegrityError, match="fork"):
        witness.add_checkpoint(AddCheckpointRequest(10, (), other), log.verifier_key)


def test_refuses_inconsistent_extension(witness: Witness, log: Signer) -> None:
    witness.add_checkpoint(_request(log, 0, 10), log.verifier_key)
    # A log of 20 entries whose first 10 differ: a valid proof of the wrong history.
    forked = [b"forked %d" % i for i in range(20)]
    from tests.log.reference import mth, proof

    cp = sign_checkpoint(Checkpoint(ORIGIN, 20, mth(forked)), [log])
    req = AddCheckpointRequest(10, tuple(proof(10, forked)), cp)
    with pytest.raises(
        IntegrityError, match="not consistent with the checkpoint cosigned at size 10"
    ):
        witness.add_checkpoint(req, log.verifier_key)
    assert witness.latest(ORIGIN)[0].size == 10  # type: ignore[index]  # nothing recorded


def test_refuses_bad_signature_and_unknown_key(witness: Witness, log: Signer) -> None:
    impostor = Signer.generate(ORIGIN)
    with pytest.raises(IntegrityError, match="no signature from a trusted key"):
        witness.add_checkpoint(AddCheckpointRequest(0, (), _signed(impostor, 10)), log.verifier_key)
    tampered = _signed(log, 10).replace(b"\n10\n", b"\n11\n")
    with pytest.raises(IntegrityError, match="invalid signature"):
        witness.add_checkpoint(AddCheckpointRequest(0, (), tampered), log.verifier_key)
    witness.add_checkpoint(AddCheckpointRequest(0, (), _signed(log, 10)), log.verifier_key)
    with pytest.raises(Conflict, match="was witnessed with key"):
        witness.add_checkpoint(
            AddCheckpointRequest(10, (), _signed(impostor, 10)), impostor.verifier_key
        )


def test_proof_must_be_empty_from_zero(witness: Witness, log: Signer) -> None:
    with pytest.raises(IntegrityError, match="must be empty"):
        witness.add_checkpoint(
            AddCheckpointRequest(0, (bytes(32),), _signed(log, 10)), log.verifier_key
        )


def test_request_from_tiles(witness: Witness, log: Signer, tmp_path: Path) -> None:
    out = tmp_path / "tiles"
    forge_tiles(out, entries(300), log, ORIGIN)
    witness.add_checkpoint(request_from_tiles(DirectoryTiles(out), 0), log.verifier_key)
    forge_tiles(out, entries(1000), log, ORIGIN)
    req = request_from_tiles(DirectoryTiles(out), 300)
    assert req.old_size == 300
    assert req.proof
    witness.add_checkpoint(req, log.verifier_key)


def test_witness_key_handling(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="witness init"):
        Witness.open(tmp_path / "none")
    Witness.init(tmp_path / "w", "w")
    with pytest.raises(Conflict, match="already exists"):
        Witness.init(tmp_path / "w", "w")
