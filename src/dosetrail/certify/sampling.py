"""The sample: drawn from the frame with a seed nobody could choose, recomputable by anyone.

**Seed.** ``seed = SHA-256(root ‖ nonce)``: ``root`` is the 32-byte root hash of the sampling
checkpoint (cosigned by the witnesses), ``nonce`` the donor's 32-byte nonce, committed in the log
before that checkpoint and revealed after it (:mod:`dosetrail.certify.nonce`). The operator fixes
the root without knowing the nonce; the donor fixed the nonce without knowing the root.

**Uniform integers.** The ``j``-th integer of stream ``label`` below ``bound`` is found by
rejection sampling on a SHA-256 counter stream: for ``attempt = 0, 1, 2, …``::

    h = SHA-256(seed ‖ "dosetrail-sample/v1" ‖ 0x0A ‖ label ‖ 0x0A ‖ u64be(j) ‖ u32be(attempt))
    x = u64be(h[0:8])
    if x < 2^64 − (2^64 mod bound): return x mod bound

**Draws.** Units are drawn with probability proportional to their weight, with replacement
(monetary-unit sampling: each draw picks one recorded dose, or vial, uniformly). For each kind in
the order ``session``, ``stock``:

1. *headline draws* ``j = 0 … draws−1`` from stream ``<kind>``: position ``u`` below the kind's
   total weight, and the unit is the one whose cumulative weight range (frame order) holds ``u``;
2. *LQAS top-ups*, per stratum in frame order: ``t = max(0, lqasDraws − a)`` draws from stream
   ``<kind>/<stratum>`` below the stratum's weight, where ``a`` is the number of headline draws
   that fell in the stratum.

Draws are numbered in that order from 0 (the ``dt:sampleIndex`` of observations). The LQAS sample
of a stratum is its first ``lqasDraws`` draws: the headline draws that fell in it, in order, then
its top-ups.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate
from typing import Any

import orjson

from dosetrail.certify.design import KINDS
from dosetrail.certify.frame import Frame, units_of
from dosetrail.errors import IntegrityError

__all__ = ["SAMPLE_FORMAT", "Draw", "Sample", "derive_seed", "draw_sample", "uniform"]

SAMPLE_FORMAT = "dosetrail-sample/v1"
_DOMAIN = b"dosetrail-sample/v1\n"
_TWO64 = 1 << 64


def derive_seed(root: bytes, nonce: bytes) -> bytes:
    """``SHA-256(root ‖ nonce)`` (both 32 bytes)."""
    if len(root) != 32 or len(nonce) != 32:
        raise ValueError("the checkpoint root and the nonce are 32 bytes each")
    return hashlib.sha256(root + nonce).digest()


def uniform(seed: bytes, label: str, j: int, bound: int) -> int:
    """The ``j``-th uniform integer in ``[0, bound)`` of stream ``label`` (rejection sampling)."""
    if bound < 1:
        raise ValueError("bound must be positive")
    limit = _TWO64 - _TWO64 % bound
    prefix = seed + _DOMAIN + label.encode() + b"\n" + j.to_bytes(8, "big")
    attempt = 0
    while True:
        h = hashlib.sha256(prefix + attempt.to_bytes(4, "big")).digest()
        x = int.from_bytes(h[:8], "big")
        if x < limit:
            return x % bound
        attempt += 1


@dataclass(frozen=True, slots=True)
class Draw:
    index: int  # in the whole sample: the observation's dt:sampleIndex
    kind: str
    stream: str  # "<kind>" (headline) or "<kind>/<stratum>" (LQAS top-up)
    j: int
    position: int  # in [0, weight of the stream)
    unit: int  # log index of the unit's event entry
    stratum: str

    @property
    def headline(self) -> bool:
        return self.stream == self.kind

    def as_json(self) -> list[Any]:
        return [self.index, self.stream, self.j, self.position, self.unit]


@dataclass(frozen=True)
class Sample:
    seed: bytes
    draws: tuple[Draw, ...]
    lqas_draws: int

    def headline(self, kind: str) -> list[Draw]:
        return [d for d in self.draws if d.kind == kind and d.headline]

    def lqas(self, kind: str, stratum: str) -> list[Draw]:
        """The stratum's LQAS sample: its headline draws, then its top-ups, cut at lqasDraws."""
        mine = [d for d in self.draws if d.kind == kind and d.stratum == stratum]
        ordered = [d for d in mine if d.headline] + [d for d in mine if not d.headline]
        return ordered[: self.lqas_draws]

    @cached_property
    def first_draw(self) -> dict[int, Draw]:
        """Each drawn unit (log index) and the first draw that selected it."""
        out: dict[int, Draw] = {}
        for d in self.draws:
            out.setdefault(d.unit, d)
        return out

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "draws": [d.as_json() for d in self.draws],
                "format": SAMPLE_FORMAT,
                "seed": self.seed.hex(),
            }
        )


def draw_sample(frame: Frame, seed: bytes) -> Sample:
    """Draw the sample of ``frame`` with ``seed`` (the algorithm in the module docstring)."""
    if len(seed) != 32:
        raise IntegrityError("the sample seed must be 32 bytes")
    draws: list[Draw] = []
    lqas_n = frame.design.lqas.n
    for kind in KINDS:
        strata = frame.strata[kind]
        if not strata:
            continue
        units = units_of(frame, kind)
        base = frame.kind_range(kind)[0]
        cumulative = list(accumulate(u.weight for u in units))
        total = cumulative[-1]

        def unit_at(position: int, cumulative: list[int] = cumulative) -> int:
            return bisect_right(cumulative, position)

        per_stratum: dict[str, int] = {s.id: 0 for s in strata}
        for j in range(frame.design.draws):
            u = uniform(seed, kind, j, total)
            unit = units[unit_at(u)]
            per_stratum[unit.stratum] += 1
            draws.append(Draw(len(draws), kind, kind, j, u, unit.log_index, unit.stratum))
        for s in strata:
            offset = cumulative[s.start - base - 1] if s.start > base else 0
            stream = f"{kind}/{s.id}"
            for j in range(max(0, lqas_n - per_stratum[s.id])):
                u = uniform(seed, stream, j, s.weight)
                unit = units[unit_at(offset + u)]
                draws.append(Draw(len(draws), kind, stream, j, u, unit.log_index, unit.stratum))
    return Sample(seed, tuple(draws), lqas_n)
