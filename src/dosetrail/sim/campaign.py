"""The campaign plan: who should get how many vials, and how much the donor must send.

Allocation follows WHO campaign practice: each facility gets its eligible (18+) catchment
population times one dose per round, times a wastage factor of 1.12 (about 10 % wastage allowed
for 10-dose vials), in vials. County stores receive whole cases covering their facilities plus a
5 % reserve in round 1; provincial stores the sum of their counties; the donor ships round 1 by
sea and round 2 by air and rail, each rounded up to whole pallets. The plan is the ministry's,
so ghost facilities are in it: plan.json is what analysis compares claims against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dosetrail.sim.commodities import (
    CASES_PER_PALLET,
    DOSES_PER_COURSE,
    DOSES_PER_VIAL,
    VIALS_PER_CASE,
)
from dosetrail.sim.geography import Country, area_uri

__all__ = ["WASTAGE_FACTOR", "Plan", "make_plan"]

WASTAGE_FACTOR = 1.12
COUNTY_RESERVE = 0.05


@dataclass(slots=True)
class Plan:
    facility_vials: dict[str, tuple[int, int]] = field(default_factory=dict)
    county_cases: dict[str, tuple[int, int]] = field(default_factory=dict)
    province_cases: dict[str, tuple[int, int]] = field(default_factory=dict)
    tranche_pallets: tuple[int, int] = (0, 0)

    def tranche_cases(self, round_number: int) -> int:
        return self.tranche_pallets[round_number - 1] * CASES_PER_PALLET


def make_plan(country: Country) -> Plan:
    plan = Plan()
    totals = [0, 0]
    for province in country.provinces:
        prov = [0, 0]
        for county in province.counties:
            vials = [0, 0]
            for facility in county.facilities:
                each = math.ceil(facility.target * WASTAGE_FACTOR / DOSES_PER_VIAL)
                plan.facility_vials[facility.key] = (each, each)
                vials[0] += each
                vials[1] += each
            reserve = math.ceil(vials[0] * COUNTY_RESERVE / VIALS_PER_CASE)
            cases = (
                math.ceil(vials[0] / VIALS_PER_CASE) + reserve,
                math.ceil(vials[1] / VIALS_PER_CASE),
            )
            plan.county_cases[county.code] = cases
            prov[0] += cases[0]
            prov[1] += cases[1]
        plan.province_cases[province.code] = (prov[0], prov[1])
        totals[0] += prov[0]
        totals[1] += prov[1]
    plan.tranche_pallets = (
        math.ceil(totals[0] / CASES_PER_PALLET),
        math.ceil(totals[1] / CASES_PER_PALLET),
    )
    return plan


def plan_json(country: Country, plan: Plan) -> dict[str, Any]:
    """plan.json: target population and planned allocation per area and facility."""
    areas: list[dict[str, Any]] = []
    facilities: list[dict[str, Any]] = []
    for province in country.provinces:
        p_target = sum(c.target for c in province.counties)
        p_cases = plan.province_cases[province.code]
        areas.append(
            {
                "id": area_uri(province.code),
                "level": "province",
                "name": province.spec.name,
                "parent": None,
                "population": province.population,
                "targetPopulation": p_target,
                "plannedDoses": [c * VIALS_PER_CASE * DOSES_PER_VIAL for c in p_cases],
            }
        )
        for county in province.counties:
            c_cases = plan.county_cases[county.code]
            areas.append(
                {
                    "id": county.area,
                    "level": "county",
                    "name": county.name,
                    "parent": area_uri(province.code),
                    "population": county.population,
                    "targetPopulation": county.target,
                    "plannedDoses": [c * VIALS_PER_CASE * DOSES_PER_VIAL for c in c_cases],
                }
            )
            for f in county.facilities:
                vials = plan.facility_vials[f.key]
                facilities.append(
                    {
                        "site": f.sgln,
                        "party": f.key,
                        "name": f.name,
                        "area": county.area,
                        "population": f.population,
                        "targetPopulation": f.target,
                        "plannedVials": list(vials),
                        "plannedDoses": [v * DOSES_PER_VIAL for v in vials],
                    }
                )
    target = sum(f["targetPopulation"] for f in facilities)
    return {
        "population": sum(p.population for p in country.provinces),
        "targetPopulation": target,
        "targetGroup": "adults 18+",
        "dosesPerCourse": DOSES_PER_COURSE,
        "dosesPerVial": DOSES_PER_VIAL,
        "vialsPerCase": VIALS_PER_CASE,
        "casesPerPallet": CASES_PER_PALLET,
        "wastageFactor": WASTAGE_FACTOR,
        "countyReserve": COUNTY_RESERVE,
        "rounds": [{"round": 1, "doseNumber": 1}, {"round": 2, "doseNumber": 2}],
        "tranchePallets": list(plan.tranche_pallets),
        "areas": areas,
        "facilities": facilities,
    }
