"""The sampling design: the parameters fixed before the sample is drawn, and the sizes they give.

A certificate tests one claim per kind of unit: "at least ``claim`` of the recorded weight
(doses administered in sessions, vials on hand in stock counts) is verified in the field".
Two numbers come out of the parameters (``docs/certification.md`` derives them):

* ``draws`` — the headline sample: the smallest ``n`` for which a programme whose true verified
  fraction is ``honest`` gets a Clopper–Pearson lower bound ``≥ claim`` with probability
  ``≥ assurance`` (the target precision);
* ``lqas`` — per stratum, the LQAS rule ``(n, d)`` that rejects a province whose failure rate is
  ``lqas_unacceptable`` with probability ``≥ 1 − lqas_beta`` and one at ``lqas_acceptable`` with
  probability ``≤ lqas_alpha``.

The design is written into the frame, which is logged before the sampling checkpoint: the sample
size can never be chosen after the seed (or any result) is known.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from functools import cached_property
from typing import Any

from dosetrail.certify.statistics import LqasRule, lqas_sample_size, precision_sample_size
from dosetrail.errors import IntegrityError

__all__ = ["DEFAULT_DESIGN", "KINDS", "Design"]

KINDS = ("session", "stock")
"""Units of certification: administration sessions (weight: doses recorded administered) and
sites' closing stock (weight: vials recorded on hand)."""


def _frac(text: str) -> Fraction:
    return Fraction(text)


@dataclass(frozen=True)
class Design:
    """Parameters of the sampling plan (all probabilities as exact decimals)."""

    confidence: Fraction = Fraction("0.95")
    claim: Fraction = Fraction("0.95")
    honest: Fraction = Fraction("0.99")
    assurance: Fraction = Fraction("0.98")
    lqas_acceptable: Fraction = Fraction("0.02")
    lqas_unacceptable: Fraction = Fraction("0.15")
    lqas_alpha: Fraction = Fraction("0.01")
    lqas_beta: Fraction = Fraction("0.10")
    interviews: int = 5
    interview_misses: int = 1

    def __post_init__(self) -> None:
        probabilities = [
            self.confidence,
            self.claim,
            self.honest,
            self.assurance,
            self.lqas_acceptable,
            self.lqas_unacceptable,
            self.lqas_alpha,
            self.lqas_beta,
        ]
        if not all(0 < p < 1 for p in probabilities if p != self.honest) or not (
            0 < self.claim < self.honest <= 1
        ):
            raise ValueError("design probabilities must lie in (0, 1), with claim < honest")
        if self.lqas_acceptable >= self.lqas_unacceptable:
            raise ValueError("the acceptable failure rate must be below the unacceptable one")
        if self.interviews < 1 or not 0 <= self.interview_misses < self.interviews:
            raise ValueError("need interviews >= 1 and 0 <= interview_misses < interviews")

    @cached_property
    def draws(self) -> int:
        """Headline draws per kind (target precision)."""
        return precision_sample_size(self.claim, self.honest, self.assurance, self.confidence)

    @cached_property
    def lqas(self) -> LqasRule:
        """The LQAS rule applied in every stratum."""
        return lqas_sample_size(
            self.lqas_acceptable, self.lqas_unacceptable, self.lqas_alpha, self.lqas_beta
        )

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[_camel(f.name)] = value if isinstance(value, int) else _plain(value)
        return out

    @classmethod
    def from_json(cls, data: Any) -> Design:
        if not isinstance(data, dict):
            raise IntegrityError("design: not a JSON object")
        kwargs: dict[str, Any] = {}
        names = {_camel(f.name): f for f in fields(cls)}
        if set(data) != set(names):
            raise IntegrityError(f"design: expected fields {sorted(names)}, got {sorted(data)}")
        for key, f in names.items():
            value = data[key]
            try:
                if f.name in ("interviews", "interview_misses"):
                    if type(value) is not int:
                        raise TypeError
                    kwargs[f.name] = value
                else:
                    if not isinstance(value, str) or _plain(_frac(value)) != value:
                        raise TypeError
                    kwargs[f.name] = _frac(value)
            except (TypeError, ValueError, ZeroDivisionError) as e:
                raise IntegrityError(f"design: {key} is not a plain decimal {value!r}") from e
        try:
            return cls(**kwargs)
        except ValueError as e:
            raise IntegrityError(f"design: {e}") from e


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _plain(value: Fraction) -> str:
    """A terminating decimal written without exponent or trailing zeros (``0.95``)."""
    digits = 0
    scaled = value
    while scaled.denominator != 1:
        if digits == 18:
            raise ValueError(f"{value} is not a decimal of at most 18 digits")
        scaled *= 10
        digits += 1
    whole, frac = divmod(scaled.numerator, 10**digits)
    return f"{whole}.{frac:0{digits}d}" if digits else str(whole)


DEFAULT_DESIGN = Design()
