"""Exact binomial statistics: Clopper–Pearson bounds and LQAS decision rules, in integers.

Everything here is computed with exact integer (rational) arithmetic, so that a verifier in any
language with big integers gets the same digits: probabilities are rationals ``a / b`` and the
binomial tail ``P(X ≥ x)`` for ``X ~ Bin(n, a/b)`` is the integer
``Σ_{j ≥ x} C(n, j) · a^j · (b − a)^(n − j)`` over ``b^n``.

* **Clopper–Pearson** (Clopper & Pearson 1934): the exact one-sided lower confidence bound for a
  binomial proportion after ``x`` successes in ``n`` trials is the ``p`` that solves
  ``P_p(X ≥ x) = α``, equivalently the ``α`` quantile of Beta(x, n − x + 1). We report it on the
  grid of :data:`GRID` (10⁻⁶) **rounded down**: the largest ``k`` with ``P_{k/10⁶}(X ≥ x) ≤ α``,
  which is never above the exact bound (conservative) and is found by bisection.
* **LQAS** (lot quality assurance sampling, WHO/Valadez 1991): a rule ``(n, d)`` rejects a lot
  (here: a province) when more than ``d`` of ``n`` sampled units fail. Its operating
  characteristic gives the risk ``α = P(F > d | p_acceptable)`` of rejecting a good lot and
  ``β = P(F ≤ d | p_unacceptable)`` of accepting a bad one.

``docs/certification.md`` has the maths and the design choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import comb

__all__ = [
    "GRID",
    "LqasRule",
    "binomial_cdf",
    "binomial_tail",
    "ceil_decimal",
    "clopper_pearson_lower",
    "floor_decimal",
    "lqas_rule",
    "lqas_sample_size",
    "precision_sample_size",
]

GRID = 10**6
"""Bounds are reported as multiples of 10⁻⁶ (six decimals)."""
_DIGITS = 6


def _tail_numerator(x: int, n: int, a: int, b: int) -> int:
    """``b^n · P(X ≥ x)`` for ``X ~ Bin(n, a/b)``, summing the shorter side exactly."""
    if x <= 0:
        return int(b**n)
    if x > n:
        return 0
    c = b - a
    if n - x + 1 <= x:  # the upper tail has fewer terms
        return int(sum(comb(n, j) * a**j * c ** (n - j) for j in range(x, n + 1)))
    return int(b**n - sum(comb(n, j) * a**j * c ** (n - j) for j in range(x)))


def binomial_tail(x: int, n: int, p: Fraction) -> Fraction:
    """``P(X ≥ x)`` for ``X ~ Bin(n, p)``, exactly."""
    _check(n, p)
    a, b = p.numerator, p.denominator
    return Fraction(_tail_numerator(x, n, a, b), b**n)


def binomial_cdf(x: int, n: int, p: Fraction) -> Fraction:
    """``P(X ≤ x)`` for ``X ~ Bin(n, p)``, exactly."""
    return 1 - binomial_tail(x + 1, n, p)


def _check(n: int, p: Fraction) -> None:
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")


@lru_cache(maxsize=4096)
def _cp_lower(x: int, n: int, alpha_num: int, alpha_den: int) -> int:
    if x == 0:
        return 0
    scale = GRID**n
    lo, hi = 0, GRID  # invariant: tail(lo) <= alpha (tail(0) = 0 for x >= 1)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if alpha_den * _tail_numerator(x, n, mid, GRID) <= alpha_num * scale:
            lo = mid
        else:
            hi = mid - 1
    return lo


def clopper_pearson_lower(x: int, n: int, confidence: Fraction = Fraction(95, 100)) -> Fraction:
    """The exact one-sided Clopper–Pearson lower bound at ``confidence``, rounded down to 10⁻⁶.

    ``x`` successes in ``n`` trials; ``n = 0`` gives 0 (nothing is known).
    """
    if not 0 <= x <= n:
        raise ValueError(f"need 0 <= x <= n, got x={x}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n == 0:
        return Fraction(0)
    alpha = 1 - confidence
    return Fraction(_cp_lower(x, n, alpha.numerator, alpha.denominator), GRID)


def precision_sample_size(
    claim: Fraction,
    honest: Fraction,
    assurance: Fraction,
    confidence: Fraction = Fraction(95, 100),
    limit: int = 5000,
) -> int:
    """The smallest ``n`` for which a programme whose true verified fraction is ``honest`` gets a
    lower bound ``≥ claim`` with probability ``≥ assurance`` (the target precision).

    The bound is ``≥ claim`` exactly when ``P_claim(X ≥ x) ≤ α`` (monotonicity of the tail), so
    for each ``n`` the smallest passing ``x`` is found and its probability under ``honest`` summed.
    """
    if not 0 < claim < honest <= 1:
        raise ValueError("need 0 < claim < honest <= 1")
    alpha = 1 - confidence
    for n in range(1, limit + 1):
        x_min = _smallest_passing(n, claim, alpha)
        if x_min is not None and binomial_tail(x_min, n, honest) >= assurance:
            return n
    raise ValueError(f"no sample size up to {limit} reaches the target precision")


def _smallest_passing(n: int, claim: Fraction, alpha: Fraction) -> int | None:
    """The smallest ``x`` with ``P_claim(X ≥ x) ≤ α`` (``None`` if even ``x = n`` fails)."""
    if binomial_tail(n, n, claim) > alpha:
        return None
    x = n
    while x > 0 and binomial_tail(x - 1, n, claim) <= alpha:
        x -= 1
    return x


@dataclass(frozen=True, slots=True)
class LqasRule:
    """Reject when more than ``d`` of ``n`` units fail; with its operating characteristic."""

    n: int
    d: int
    alpha: Fraction  # P(reject | failure rate = acceptable)
    beta: Fraction  # P(accept | failure rate = unacceptable)

    def accepts(self, failures: int) -> bool:
        return failures <= self.d


def lqas_rule(
    n: int, acceptable: Fraction, unacceptable: Fraction, max_alpha: Fraction
) -> LqasRule:
    """The rule for ``n`` units: the smallest ``d`` whose risk of rejecting an acceptable lot
    (failure rate ``acceptable``) is at most ``max_alpha``; reports both risks exactly."""
    if not 0 <= acceptable < unacceptable <= 1:
        raise ValueError("need 0 <= acceptable < unacceptable <= 1")
    d = 0
    while d < n and binomial_tail(d + 1, n, acceptable) > max_alpha:
        d += 1
    alpha = binomial_tail(d + 1, n, acceptable)
    beta = binomial_cdf(d, n, unacceptable)
    return LqasRule(n, d, alpha, beta)


def lqas_sample_size(
    acceptable: Fraction,
    unacceptable: Fraction,
    max_alpha: Fraction,
    max_beta: Fraction,
    limit: int = 2000,
) -> LqasRule:
    """The smallest ``n`` whose :func:`lqas_rule` has ``α ≤ max_alpha`` and ``β ≤ max_beta``."""
    for n in range(1, limit + 1):
        rule = lqas_rule(n, acceptable, unacceptable, max_alpha)
        if rule.beta <= max_beta:
            return rule
    raise ValueError(f"no LQAS sample size up to {limit} meets the risks")


def floor_decimal(value: Fraction, digits: int = _DIGITS) -> str:
    """``value`` rounded down to ``digits`` decimals, as a plain decimal string."""
    scaled = value.numerator * 10**digits // value.denominator
    return _decimal(scaled, digits)


def ceil_decimal(value: Fraction, digits: int = _DIGITS) -> str:
    """``value`` rounded up to ``digits`` decimals, as a plain decimal string."""
    scaled = -(-value.numerator * 10**digits // value.denominator)
    return _decimal(scaled, digits)


def _decimal(scaled: int, digits: int) -> str:
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}"
