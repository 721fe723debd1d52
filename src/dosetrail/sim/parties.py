"""Who records what: every party of the campaign, with its role, PGLN and the site it operates.

Roles are those of docs/profile.md §2 (the ledger enforces that table). Each store and facility
is its own party, with its own key, because the point of dosetrail is that each signs only what
it witnessed. The party key is also the directory name of its documents (``epcis/<key>/``).
"""

# ruff: noqa: PLR0917 - step functions take the facts of one real step, in EPCIS field order

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dosetrail.sim.geography import PARTY_OFFSET, Country
from dosetrail.sim.gs1 import BORDER, CARRIER, DONOR, MINISTRY, MONITOR, TRUST, CompanyPrefix

__all__ = ["KOREA", "Party", "build_parties"]

KOREA = "+09:00"
ORIGIN = "+05:30"
CHINA = "+08:00"


@dataclass(frozen=True, slots=True)
class Party:
    key: str
    name: str
    role: str
    pgln: str
    site: str | None
    site_type: str | None
    offset: str = KOREA
    area: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "role": self.role,
            "pgln": self.pgln,
            "site": self.site,
            "siteType": self.site_type,
            "utcOffset": self.offset,
            "area": self.area,
        }


def _party(
    prefix: CompanyPrefix,
    ref: int,
    key: str,
    name: str,
    role: str,
    site_ref: int | None,
    site_type: str | None,
    offset: str = KOREA,
    area: str | None = None,
) -> Party:
    site = prefix.sgln(site_ref) if site_ref is not None else None
    return Party(key, name, role, prefix.pgln(ref), site, site_type, offset, area)


def build_parties(country: Country) -> dict[str, Party]:
    """All parties, keyed by party key, in a stable order (international, stores, facilities,
    then monitor, operator and witnesses)."""
    out: list[Party] = [
        _party(
            DONOR, 1, "donor", "DT-Vax donor consortium", "donor", 2, "origin_warehouse", ORIGIN
        ),
        _party(
            CARRIER,
            1,
            "sea-carrier",
            "Reefer line (sea carrier)",
            "carrier",
            10,
            "sea_port",
            ORIGIN,
        ),
        _party(
            CARRIER,
            2,
            "rail-carrier",
            "Dandong–Sinuiju rail freight",
            "carrier",
            11,
            "railhead",
            CHINA,
        ),
        _party(BORDER, 1, "nampo-port", "Nampo port authority", "carrier", 10, "sea_port"),
        _party(
            BORDER,
            2,
            "sinuiju-border",
            "Sinuiju border authority",
            "carrier",
            11,
            "border_crossing",
        ),
        _party(
            MINISTRY,
            country.central_ref + PARTY_OFFSET,
            "central-store",
            "Ministry of Public Health central vaccine store, Pyongyang",
            "store",
            country.central_ref,
            "central_store",
        ),
    ]
    for province in country.provinces:
        out.append(
            _party(
                MINISTRY,
                province.store_ref + PARTY_OFFSET,
                f"prov-{province.code.lower()}",
                f"{province.spec.name} provincial vaccine store ({province.spec.capital})",
                "store",
                province.store_ref,
                "provincial_store",
                area=f"https://dosetrail.org/area/{province.code}",
            )
        )
    for county in country.counties():
        number = county.code.split("/c")[1]
        out.append(
            _party(
                MINISTRY,
                county.store_ref + PARTY_OFFSET,
                f"county-{county.province.lower()}-{number}",
                f"{county.name} vaccine store",
                "store",
                county.store_ref,
                "county_store",
                area=county.area,
            )
        )
    for facility in country.facilities():
        out.append(
            _party(
                MINISTRY,
                facility.ref + PARTY_OFFSET,
                facility.key,
                facility.name,
                "facility",
                facility.ref,
                facility.kind,
                area=f"https://dosetrail.org/area/{facility.county}",
            )
        )
    out += [
        _party(MONITOR, 1, "monitor", "Independent field monitor", "monitor", None, None),
        _party(TRUST, 1, "operator", "Log operator", "operator", None, None),
        _party(TRUST, 2, "witness-1", "Witness 1", "witness", None, None),
        _party(TRUST, 3, "witness-2", "Witness 2", "witness", None, None),
    ]
    return {p.key: p for p in out}
