"""Exact Clopper–Pearson bounds and LQAS rules (docs/certification.md, "Statistics")."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosetrail.certify.design import DEFAULT_DESIGN, Design
from dosetrail.certify.statistics import (
    binomial_cdf,
    binomial_tail,
    ceil_decimal,
    clopper_pearson_lower,
    floor_decimal,
    lqas_rule,
    precision_sample_size,
)
from dosetrail.errors import IntegrityError

CASES = json.loads((Path(__file__).parent / "data" / "clopper_pearson.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['x']}/{c['n']}@{c['confidence']}")
def test_clopper_pearson_known_values(case: dict[str, object]) -> None:
    bound = clopper_pearson_lower(int(case["x"]), int(case["n"]), Fraction(str(case["confidence"])))
    assert floor_decimal(bound) == case["lower"]


def _float_lower(x: int, n: int, alpha: float) -> float:
    """An independent float bisection on P_p(X >= x) = alpha (log-space binomial sums)."""
    if x == 0:
        return 0.0

    def tail(p: float) -> float:
        if p <= 0:
            return 0.0
        if p >= 1:
            return 1.0
        terms = [
            math.lgamma(n + 1)
            - math.lgamma(j + 1)
            - math.lgamma(n - j + 1)
            + j * math.log(p)
            + (n - j) * math.log1p(-p)
            for j in range(x, n + 1)
        ]
        return sum(math.exp(t) for t in terms)

    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if tail(mid) <= alpha else (lo, mid)
    return lo


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 250).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_clopper_pearson_agrees_with_a_float_solution(xn: tuple[int, int]) -> None:
    x, n = xn
    exact = clopper_pearson_lower(x, n)
    assert abs(float(exact) - _float_lower(x, n, 0.05)) < 2e-6
    # rounded down: the tail at the reported bound is at most alpha, one step up it is above
    if x:
        assert binomial_tail(x, n, exact) <= Fraction(1, 20)
        assert binomial_tail(x, n, exact + Fraction(1, 10**6)) > Fraction(1, 20)


def test_clopper_pearson_is_monotone_in_successes() -> None:
    bounds = [clopper_pearson_lower(x, 60) for x in range(61)]
    assert bounds == sorted(bounds)
    assert bounds[0] == 0


def test_binomial_tail_and_cdf_are_complements() -> None:
    p = Fraction(3, 10)
    assert binomial_tail(0, 7, p) == 1
    assert binomial_tail(8, 7, p) == 0
    for x in range(8):
        assert binomial_cdf(x, 7, p) + binomial_tail(x + 1, 7, p) == 1


def test_lqas_rule_is_the_smallest_d_within_alpha() -> None:
    rule = lqas_rule(52, Fraction("0.02"), Fraction("0.15"), Fraction("0.01"))
    assert (rule.n, rule.d) == (52, 4)
    assert rule.alpha == binomial_tail(5, 52, Fraction("0.02")) <= Fraction("0.01")
    assert binomial_tail(4, 52, Fraction("0.02")) > Fraction("0.01")
    assert rule.beta == binomial_cdf(4, 52, Fraction("0.15")) <= Fraction("0.10")
    assert rule.accepts(4)
    assert not rule.accepts(5)


def test_default_design_sizes() -> None:
    assert DEFAULT_DESIGN.draws == 208
    assert (DEFAULT_DESIGN.lqas.n, DEFAULT_DESIGN.lqas.d) == (52, 4)


def test_precision_sample_size_is_minimal() -> None:
    claim, honest, assurance = Fraction("0.95"), Fraction("0.99"), Fraction("0.98")
    n = precision_sample_size(claim, honest, assurance)

    def power(m: int) -> Fraction:
        passing = [x for x in range(m + 1) if clopper_pearson_lower(x, m) >= claim]
        return binomial_tail(passing[0], m, honest) if passing else Fraction(0)

    assert power(n) >= assurance
    assert power(n - 1) < assurance


def test_decimals_round_in_the_stated_direction() -> None:
    assert floor_decimal(Fraction(2, 3)) == "0.666666"
    assert ceil_decimal(Fraction(2, 3)) == "0.666667"
    assert floor_decimal(Fraction(1)) == "1.000000"
    assert ceil_decimal(Fraction(1, 10**7)) == "0.000001"


def test_design_round_trips_and_rejects_nonsense() -> None:
    d = Design(claim=Fraction("0.9"))
    assert Design.from_json(d.as_json()) == d
    with pytest.raises(IntegrityError):
        Design.from_json({**d.as_json(), "claim": "0.90"})  # not the plain form
    with pytest.raises(IntegrityError):
        Design.from_json({**d.as_json(), "claim": "1.5"})
    with pytest.raises(ValueError, match="claim < honest"):
        Design(claim=Fraction("0.995"))
