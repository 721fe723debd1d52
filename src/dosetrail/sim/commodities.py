"""The donated product and its serialisation: vials (SGTIN) in cases (SGTIN) on pallets (SSCC).

Vials and cases are numbered internally (case ``c`` holds vials ``c*50 .. c*50+49``), which keeps
the whole campaign's stock as small integers and ranges. Their serial numbers are a seeded
bijection of that number modulo 10^10 (multiplication by a unit), so serials look random, as
anti-counterfeiting practice wants, yet are unique and cost one multiplication to compute.
Lots are contiguous ranges of cases; a case's lot is found by bisection.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field

from dosetrail.sim.gs1 import DONOR

__all__ = [
    "CASES_PER_PALLET",
    "DOSES_PER_COURSE",
    "DOSES_PER_VIAL",
    "VIALS_PER_CASE",
    "Catalogue",
    "Lot",
    "Product",
]

DOSES_PER_VIAL = 10
VIALS_PER_CASE = 50
CASES_PER_PALLET = 48
DOSES_PER_COURSE = 2
_MODULUS = 10**10
_VIAL_MULTIPLIER = 3_141_592_653  # odd and not a multiple of 5: a unit modulo 10^10
_CASE_MULTIPLIER = 2_718_281_829


@dataclass(frozen=True, slots=True)
class Product:
    """A 2-dose vaccine in 10-dose vials, 2–8 °C, discarded 6 hours after opening."""

    name: str = "DT-Vax (demonstration vaccine), 10-dose vial"
    item: int = 101
    storage_min: float = 2.0
    storage_max: float = 8.0
    open_vial_hours: int = 6

    @property
    def vial_gtin(self) -> str:
        return DONOR.gtin(0, self.item)

    @property
    def case_gtin(self) -> str:
        return DONOR.gtin(1, self.item)


@dataclass(frozen=True, slots=True)
class Lot:
    number: str
    expiry: str
    first_case: int
    cases: int
    tranche: str

    @property
    def end_case(self) -> int:
        return self.first_case + self.cases


@dataclass(slots=True)
class Catalogue:
    """Every lot commissioned in the run, and the EPCs of its cases and vials."""

    seed: int
    product: Product = field(default_factory=Product)
    lots: list[Lot] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list)
    _vial_prefix: str = ""
    _case_prefix: str = ""
    _vial_offset: int = 0
    _case_offset: int = 0
    _lgtins: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(f"{self.seed}:serials")
        self._vial_offset = rng.randrange(_MODULUS)
        self._case_offset = rng.randrange(_MODULUS)
        self._vial_prefix = DONOR.sgtin_prefix(self.product.vial_gtin)
        self._case_prefix = DONOR.sgtin_prefix(self.product.case_gtin)

    @property
    def cases(self) -> int:
        return self.lots[-1].end_case if self.lots else 0

    def add_lot(self, number: str, expiry: str, cases: int, tranche: str) -> Lot:
        lot = Lot(number, expiry, self.cases, cases, tranche)
        self.lots.append(lot)
        self._starts.append(lot.first_case)
        self._lgtins[number] = DONOR.lgtin(self.product.vial_gtin, number)
        return lot

    def lot_of_case(self, case: int) -> Lot:
        return self.lots[bisect.bisect_right(self._starts, case) - 1]

    def lot_of_vial(self, vial: int) -> Lot:
        return self.lot_of_case(vial // VIALS_PER_CASE)

    def vial_epc(self, vial: int) -> str:
        return f"{self._vial_prefix}{(vial * _VIAL_MULTIPLIER + self._vial_offset) % _MODULUS}"

    def vial_epcs(self, start: int, count: int) -> list[str]:
        prefix, offset = self._vial_prefix, self._vial_offset
        return [
            f"{prefix}{(v * _VIAL_MULTIPLIER + offset) % _MODULUS}"
            for v in range(start, start + count)
        ]

    def case_epc(self, case: int) -> str:
        return f"{self._case_prefix}{(case * _CASE_MULTIPLIER + self._case_offset) % _MODULUS}"

    def lgtin(self, lot: str) -> str:
        """The vial LGTIN (``urn:epc:class:lgtin:…``) of a lot, for quantity lists."""
        return self._lgtins[lot]
