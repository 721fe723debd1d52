"""The sliced proof generators (RFC 9162 §2.1.3.1, §2.1.4.1) agree with the generic ones.

``TileProver`` reads proofs out of tile trees at precomputed offsets; the generic generators in
``merkle`` (checked against published vectors and an independent reference in test_merkle.py) are
the specification here. Tiles are built for a larger tree than the one proven, so partial tiles
that have grown since (stored width > needed width) are exercised too.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dosetrail.errors import StorageError
from dosetrail.log.integrate import extend_tiles
from dosetrail.log.merkle import consistency_proof, inclusion_proof
from dosetrail.log.tileproofs import TileProver
from dosetrail.log.tiles import TileCache, TileFetcher, TileHashes
from tests.log import reference
from tests.log.trees import entries


@lru_cache(maxsize=4)
def _tiles(n: int) -> dict[tuple[int, int], tuple[int, bytes]]:
    leaves = b"".join(hashlib.sha256(b"\x00" + e).digest() for e in entries(n))
    return {(lv, ix): (w, tree) for lv, ix, w, tree in extend_tiles(0, leaves, {})}


def _fetcher(stored: int) -> TileFetcher:
    tiles = _tiles(stored)

    def fetch(level: int, index: int, width: int) -> tuple[int, bytes]:
        hit = tiles.get((level, index))
        if hit is None or hit[0] < width:
            raise StorageError(f"tile {level}/{index} of width {width} is not stored")
        return hit

    return fetch


def _both(stored: int, size: int, cache_tiles: int = 64) -> tuple[TileProver, TileHashes]:
    fetch = _fetcher(stored)
    return TileProver(fetch, TileCache(cache_tiles)), TileHashes(fetch, size, TileCache(64))


@pytest.mark.parametrize("n", [*range(1, 40), 255, 256, 257, 511, 512, 513, 700])
def test_every_proof_of_small_trees_matches_reference(n: int) -> None:
    d = entries(n)
    prover, _ = _both(n + 300, n)
    for m in range(n):
        assert prover.inclusion_proof(m, n) == reference.path(m, d)
    for m in range(1, n + 1):
        assert prover.consistency_proof(m, n) == reference.proof(m, d)
    assert prover.consistency_proof(0, n) == []


STORED = 70_000 + 2 * 65536 + 5 * 256 + 3  # three tile levels, partial at each


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(1, STORED),
    data=st.data(),
    cache=st.sampled_from([1, 2, 64]),
)
def test_proofs_match_generic_generators(size: int, data: st.DataObject, cache: int) -> None:
    prover, node = _both(STORED, size, cache)
    for _ in range(5):
        i = data.draw(st.integers(0, size - 1), label="index")
        assert prover.inclusion_proof(i, size) == inclusion_proof(i, size, node)
        m = data.draw(st.integers(1, size), label="old size")
        assert prover.consistency_proof(m, size) == consistency_proof(m, size, node)


@pytest.mark.parametrize("size", [65536, 65537, 65536 + 256, 131071, 131072, 131073, STORED])
def test_edges_of_tile_levels(size: int) -> None:
    prover, node = _both(STORED, size)
    for i in {0, 1, 255, 256, 65535, 65536, size - 257, size - 256, size - 2, size - 1}:
        if 0 <= i < size:
            assert prover.inclusion_proof(i, size) == inclusion_proof(i, size, node)
    for m in {1, 2, 255, 256, 257, 65535, 65536, 65537, size - 1, size}:
        if 0 < m <= size:
            assert prover.consistency_proof(m, size) == consistency_proof(m, size, node)


def test_missing_tiles_and_bad_requests() -> None:
    prover = TileProver(_fetcher(300), TileCache(8))
    with pytest.raises(StorageError, match="not stored"):
        prover.inclusion_proof(0, 301)
    with pytest.raises(ValueError, match="not in a tree"):
        prover.inclusion_proof(5, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        prover.consistency_proof(6, 5)
    assert prover.consistency_proof(5, 5) == []
