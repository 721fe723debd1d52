"""The little statistics the indicators need: χ² tail probabilities, without SciPy.

The regularised incomplete gamma function by its series (x < a + 1) or Lentz's continued fraction
(otherwise), as in Press et al., *Numerical Recipes* (3rd ed.), §6.2; χ²(k) CDF = P(k/2, x/2).
"""

from __future__ import annotations

import math

__all__ = ["chi2_cdf", "chi2_sf"]

_EPS = 1e-15
_ITERATIONS = 500


def _series(a: float, x: float) -> float:
    term = total = 1.0 / a
    n = a
    for _ in range(_ITERATIONS):
        n += 1.0
        term *= x / n
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _fraction(a: float, x: float) -> float:
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_cdf(x: float, k: float) -> float:
    """P(X ≤ x) for X ~ χ²(k)."""
    if x <= 0:
        return 0.0
    a, half = k / 2.0, x / 2.0
    return _series(a, half) if half < a + 1.0 else 1.0 - _fraction(a, half)


def chi2_sf(x: float, k: float) -> float:
    """P(X > x) for X ~ χ²(k), accurate in the far tail."""
    if x <= 0:
        return 1.0
    a, half = k / 2.0, x / 2.0
    return 1.0 - _series(a, half) if half < a + 1.0 else _fraction(a, half)
