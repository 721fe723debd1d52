"""Seed derivation and draws (docs/certification.md, "Sampling"): recomputable by anyone."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosetrail.certify.design import Design
from dosetrail.certify.frame import Frame, Unit
from dosetrail.certify.sampling import derive_seed, draw_sample, uniform
from dosetrail.errors import IntegrityError
from tests.certify import reference

VECTORS = json.loads((Path(__file__).parent / "data" / "sampling_vectors.json").read_text())


def test_seed_is_sha256_of_root_and_nonce() -> None:
    root, nonce = bytes.fromhex(VECTORS["root"]), bytes.fromhex(VECTORS["nonce"])
    assert derive_seed(root, nonce).hex() == VECTORS["seed"]
    assert derive_seed(root, nonce) == hashlib.sha256(root + nonce).digest()
    with pytest.raises(ValueError, match="32 bytes"):
        derive_seed(root, nonce[:31])


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"{c['label']}-{c['j']}")
def test_uniform_known_answers(case: dict[str, object]) -> None:
    seed = bytes.fromhex(VECTORS["seed"])
    value = uniform(seed, str(case["label"]), int(str(case["j"])), int(str(case["bound"])))
    assert value == case["value"]


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=32, max_size=32),
    st.text(min_size=1, max_size=20),
    st.integers(0, 10**6),
    st.integers(1, 2**64),
)
def test_uniform_matches_the_plain_reference(seed: bytes, label: str, j: int, bound: int) -> None:
    value = uniform(seed, label, j, bound)
    assert 0 <= value < bound
    assert value == reference.uniform(seed, label, j, bound)


def _frame(weights: dict[str, list[int]], design: Design | None = None) -> Frame:
    units = []
    index = 0
    for stratum, ws in weights.items():
        for w in ws:
            units.append(Unit("session", stratum, index, w))
            index += 1
    return Frame.build("p", "q", index, design or Design(), units)


def test_draws_are_proportional_to_weight() -> None:
    frame = _frame({"A": [1, 3]})
    hits: Counter[int] = Counter()
    for i in range(20):
        sample = draw_sample(frame, hashlib.sha256(str(i).encode()).digest())
        hits.update(d.unit for d in sample.headline("session"))
    share = hits[1] / (hits[0] + hits[1])
    assert 0.72 < share < 0.78  # 3/4 of the weight, 20 × 208 draws


def test_every_stratum_gets_its_lqas_draws() -> None:
    frame = _frame({"A": [500] * 50, "B": [5] * 4, "C": [1000] * 10})
    sample = draw_sample(frame, bytes(32))
    m = frame.design.lqas.n
    for s in ("A", "B", "C"):
        lq = sample.lqas("session", s)
        assert len(lq) == m
        assert all(d.stratum == s for d in lq)
    assert len(sample.headline("session")) == frame.design.draws
    assert [d.index for d in sample.draws] == list(range(len(sample.draws)))
    # stratum B is tiny: (almost) all its LQAS draws are top-ups from stream session/B
    assert sum(1 for d in sample.draws if d.stream == "session/B") >= m - 3


def test_sample_depends_on_every_bit_of_the_seed() -> None:
    frame = _frame({"A": list(range(1, 400))})
    seed = derive_seed(bytes(32), bytes(32))
    base = draw_sample(frame, seed).encode()
    flipped = bytes([seed[0] ^ 1]) + seed[1:]
    assert draw_sample(frame, flipped).encode() != base
    assert draw_sample(frame, seed).encode() == base  # deterministic


def test_a_stream_position_lands_in_its_units_range() -> None:
    frame = _frame({"A": [2, 5], "B": [7, 1]})
    sample = draw_sample(frame, b"\x07" * 32)
    cumulative = {0: (0, 2), 1: (2, 7), 2: (7, 14), 3: (14, 15)}
    offsets = {"A": 0, "B": 7}
    for d in sample.draws:
        lo, hi = cumulative[d.unit]
        position = d.position if d.headline else offsets[d.stratum] + d.position
        assert lo <= position < hi


def test_seed_must_be_32_bytes() -> None:
    with pytest.raises(IntegrityError):
        draw_sample(_frame({"A": [1]}), b"short")


def test_design_fractions_are_exact() -> None:
    assert Design().claim == Fraction(95, 100)
