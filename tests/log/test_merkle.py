"""RFC 9162 §2.1: tree hash, inclusion (§2.1.3) and consistency (§2.1.4) proofs.

Checked three ways: published vectors (transparency-dev/merkle, files under data/), an
independent recursive implementation of the RFC's definitions (tests/log/reference.py) with
hypothesis over tree sizes 1 … 100,000, and tampering (any flipped byte fails).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dosetrail.errors import IntegrityError
from dosetrail.log.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    leaf_hashes,
    root_of,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from tests.log import reference
from tests.log.trees import entries, node_reader

DATA = Path(__file__).parent / "data"
REF = json.loads((DATA / "rfc6962_reference_tree.json").read_text())
REF_LEAVES = [bytes.fromhex(h) for h in REF["leaves_hex"]]


def _hex(xs: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in xs]


class _Mem:
    """A NodeReader over an arbitrary small list of entries."""

    def __init__(self, d: list[bytes]) -> None:
        self.d = d

    def __call__(self, level: int, index: int) -> bytes:
        return reference.mth(self.d[index << level : (index + 1) << level])


# --- §2.1.1 tree hash: published roots of the reference tree -----------------------------------


@pytest.mark.parametrize("size", range(9))
def test_root_matches_published_reference_roots(size: int) -> None:
    want = bytes.fromhex(REF["roots_hex"][size])
    assert root_of([leaf_hash(e) for e in REF_LEAVES[:size]]) == want
    assert tree_root(size, _Mem(REF_LEAVES)) == want


def test_empty_tree_is_sha256_of_nothing() -> None:
    assert bytes.fromhex(REF["roots_hex"][0]) == EMPTY_ROOT


# --- §2.1.3 / §2.1.4: published proofs --------------------------------------------------------


@pytest.mark.parametrize("case", REF["inclusion"], ids=lambda c: f"{c['index']}:{c['size']}")
def test_inclusion_proof_matches_published(case: dict[str, object]) -> None:
    index, size = int(case["index"]), int(case["size"])  # type: ignore[call-overload]
    want = _hex(case["proof_hex"])  # type: ignore[arg-type]
    assert inclusion_proof(index, size, _Mem(REF_LEAVES)) == want
    root = bytes.fromhex(REF["roots_hex"][size])
    verify_inclusion(leaf_hash(REF_LEAVES[index]), index, size, want, root)


@pytest.mark.parametrize("case", REF["consistency"], ids=lambda c: f"{c['size1']}:{c['size2']}")
def test_consistency_proof_matches_published(case: dict[str, object]) -> None:
    m, n = int(case["size1"]), int(case["size2"])  # type: ignore[call-overload]
    want = _hex(case["proof_hex"])  # type: ignore[arg-type]
    assert consistency_proof(m, n, _Mem(REF_LEAVES)) == want
    verify_consistency(
        m, n, bytes.fromhex(REF["roots_hex"][m]), bytes.fromhex(REF["roots_hex"][n]), want
    )


VECTORS = sorted((DATA / "merkle").glob("*.json"))


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_transparency_dev_verification_vectors(path: Path) -> None:
    c = json.loads(path.read_text())
    b = base64.b64decode
    proof = [b(h) for h in (c["proof"] or [])]
    if path.name.startswith("inclusion"):
        call = lambda: verify_inclusion(  # noqa: E731
            b(c["leafHash"]), c["leafIdx"], c["treeSize"], proof, b(c["root"])
        )
    else:
        call = lambda: verify_consistency(  # noqa: E731
            c["size1"], c["size2"], b(c["root1"]), b(c["root2"]), proof
        )
    if c["wantErr"]:
        with pytest.raises(IntegrityError):
            call()
    else:
        call()


# --- against the independent recursive implementation ----------------------------------------

SMALL = 300


@pytest.mark.parametrize("n", range(1, 70))
def test_every_proof_of_small_trees_matches_reference(n: int) -> None:
    d = entries(n)
    node = node_reader(n)
    root = reference.mth(d)
    assert tree_root(n, node) == root
    for m in range(n):
        want = reference.path(m, d)
        assert inclusion_proof(m, n, node) == want
        verify_inclusion(leaf_hash(d[m]), m, n, want, root)
    for m in range(1, n + 1):
        want = reference.proof(m, d)
        assert consistency_proof(m, n, node) == want
        verify_consistency(m, n, reference.mth(d[:m]), root, want)


sizes = st.integers(min_value=1, max_value=100_000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=sizes, data=st.data())
def test_inclusion_matches_reference_for_random_sizes(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, n - 1), label="index")
    d = entries(n)
    want = reference.path(m, d)
    got = inclusion_proof(m, n, node_reader(n))
    assert got == want
    root = tree_root(n, node_reader(n))
    assert root == reference.mth(d)
    verify_inclusion(leaf_hash(d[m]), m, n, got, root)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=sizes, data=st.data())
def test_consistency_matches_reference_for_random_sizes(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, n), label="old size")
    d = entries(n)
    want = reference.proof(m, d)
    got = consistency_proof(m, n, node_reader(n))
    assert got == want
    node = node_reader(n)
    verify_consistency(m, n, tree_root(m, node), tree_root(n, node), got)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 2000), data=st.data())
def test_flipping_any_byte_of_an_inclusion_proof_fails(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, n - 1))
    node = node_reader(n)
    proof = inclusion_proof(m, n, node)
    root = tree_root(n, node)
    i = data.draw(st.integers(0, len(proof) * 32 - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    flat = bytearray(b"".join(proof))
    flat[i] ^= 1 << bit
    bad = [bytes(flat[k : k + 32]) for k in range(0, len(flat), 32)]
    with pytest.raises(IntegrityError):
        verify_inclusion(node(0, m), m, n, bad, root)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(3, 2000), data=st.data())
def test_flipping_any_byte_of_a_consistency_proof_fails(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, n - 1))
    node = node_reader(n)
    proof = consistency_proof(m, n, node)
    i = data.draw(st.integers(0, len(proof) * 32 - 1), label="byte")
    flat = bytearray(b"".join(proof))
    flat[i] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    bad = [bytes(flat[k : k + 32]) for k in range(0, len(flat), 32)]
    with pytest.raises(IntegrityError):
        verify_consistency(m, n, tree_root(m, node), tree_root(n, node), bad)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 2000), data=st.data())
def test_wrong_index_size_or_length_fails(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, n - 1))
    node = node_reader(n)
    proof = inclusion_proof(m, n, node)
    root = tree_root(n, node)
    leaf = node(0, m)
    with pytest.raises(IntegrityError):
        verify_inclusion(leaf, m, n, [*proof, proof[0] if proof else root], root)
    if proof:
        with pytest.raises(IntegrityError):
            verify_inclusion(leaf, m, n, proof[:-1], root)
    other = data.draw(st.integers(0, n - 1).filter(lambda x: x != m))
    with pytest.raises(IntegrityError):
        verify_inclusion(leaf, other, n, proof, root)


def test_verify_rejects_out_of_range_and_malformed() -> None:
    node = node_reader(8)
    root = tree_root(8, node)
    with pytest.raises(IntegrityError, match="not below tree size"):
        verify_inclusion(node(0, 0), 8, 8, [], root)
    with pytest.raises(IntegrityError, match="hash 0 is 31 bytes"):
        verify_inclusion(node(0, 0), 0, 8, [b"x" * 31], root)
    with pytest.raises(IntegrityError, match="fork"):
        verify_consistency(8, 8, root, tree_root(7, node), [])
    with pytest.raises(IntegrityError, match="must be empty"):
        verify_consistency(0, 8, EMPTY_ROOT, root, [root])
    verify_consistency(0, 8, EMPTY_ROOT, root, [])
    with pytest.raises(IntegrityError, match="old size 9 > new size 8"):
        verify_consistency(9, 8, root, root, [root])
    with pytest.raises(IntegrityError, match="is empty"):
        verify_consistency(4, 8, tree_root(4, node), root, [])


def test_generators_reject_impossible_requests() -> None:
    node = node_reader(8)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(8, 8, node)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(9, 8, node)
    assert consistency_proof(0, 8, node) == []
    assert consistency_proof(8, 8, node) == []


@given(st.lists(st.binary(max_size=300), max_size=50))
def test_batch_leaf_hashes_equal_single_ones(batch: list[bytes]) -> None:
    assert leaf_hashes(batch) == b"".join(leaf_hash(e) for e in batch)
