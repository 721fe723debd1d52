"""The simulated country: DPRK provinces and special cities, counties, and health facilities.

Province populations are those of the 2008 DPRK census (Central Bureau of Statistics, reference
day 1 October 2008): ten first-level units whose civilian total is 23,349,859 (another 702,372
people lived in military quarters; the national total was 24,052,231). In 2008 Nampo (983,660)
was counted inside South Pyongan and Rason (196,954) inside North Hamgyong; both are special
cities again today, so they are split out here. Populations are scaled to about 26 million
today. County counts are close to the real ones; county and facility *names and sizes* are
synthetic, drawn from the seed, because the real county populations are not public.

A run for ``population`` N < national keeps the structure and takes a seeded subset: whole
provinces while they fit, then whole counties, then scales the chosen counties so they sum to N.
Each county's facilities are drawn from a random stream keyed by the county alone, so a county
looks the same whichever subset it is part of.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from dosetrail.sim.gs1 import MINISTRY

__all__ = [
    "ADULT_SHARE",
    "AGE_GROUPS",
    "AGE_MIX",
    "CENSUS_2008_CIVILIAN",
    "NATIONAL_POPULATION",
    "PROVINCES",
    "Country",
    "County",
    "Facility",
    "Province",
    "ProvinceSpec",
    "build_country",
]

NATIONAL_POPULATION = 26_000_000
CENSUS_2008_CIVILIAN = 23_349_859
AGE_GROUPS = ("18-29", "30-49", "50-64", "65+")
AGE_MIX = (0.22, 0.40, 0.25, 0.13)
"""Share of each campaign age group among adults (18+)."""
ADULT_SHARE = 0.75
"""Share of the population aged 18 or more: the campaign's target population."""

COUNTY_BLOCK = 200  # MoPH location references per county: block * 200 + slot (slot 1..199)
STORE_BASE = 45_000  # central store 45000, provincial stores 45001.. (by province index)
PARTY_OFFSET = 50_000  # a party's PGLN reference is its site's location reference + 50000


@dataclass(frozen=True, slots=True)
class ProvinceSpec:
    """A first-level division: ISO 3166-2 code, 2008 census population, county count."""

    code: str
    name: str
    capital: str
    census_2008: int
    counties: int
    lat: float
    lon: float
    special_city: bool = False


PROVINCES = (
    ProvinceSpec("KP-01", "Pyongyang", "Pyongyang", 3_255_288, 19, 39.03, 125.75, True),
    ProvinceSpec("KP-02", "South Pyongan", "Pyongsong", 4_051_696 - 983_660, 19, 39.25, 125.87),
    ProvinceSpec("KP-03", "North Pyongan", "Sinuiju", 2_728_662, 25, 40.10, 124.40),
    ProvinceSpec("KP-04", "Chagang", "Kanggye", 1_299_830, 18, 40.97, 126.60),
    ProvinceSpec("KP-05", "South Hwanghae", "Haeju", 2_310_485, 20, 38.04, 125.71),
    ProvinceSpec("KP-06", "North Hwanghae", "Sariwon", 2_113_672, 21, 38.51, 125.76),
    ProvinceSpec("KP-07", "Kangwon", "Wonsan", 1_477_582, 17, 39.15, 127.44),
    ProvinceSpec("KP-08", "South Hamgyong", "Hamhung", 3_066_013, 21, 39.92, 127.54),
    ProvinceSpec("KP-09", "North Hamgyong", "Chongjin", 2_327_362 - 196_954, 15, 41.80, 129.78),
    ProvinceSpec("KP-10", "Ryanggang", "Hyesan", 719_269, 12, 41.40, 128.18),
    ProvinceSpec("KP-13", "Rason", "Rason", 196_954, 2, 42.26, 130.30, True),
    ProvinceSpec("KP-14", "Nampo", "Nampo", 983_660, 6, 38.74, 125.41, True),
)


@dataclass(slots=True)
class Facility:
    """A vaccinating facility (county hospital, ri or dong clinic), or a ghost that only exists
    on paper (``ghost`` is ground truth; nothing in the EPCIS output says so)."""

    key: str
    name: str
    kind: str
    ref: int
    population: int
    target: int
    age_mix: tuple[float, ...]
    posts: int
    county: str
    lat: float
    lon: float
    ghost: bool = False

    @property
    def sgln(self) -> str:
        return MINISTRY.sgln(self.ref)

    def post_sgln(self, post: int) -> str:
        """Session post: 0 the facility itself, 1.. its outreach posts."""
        return MINISTRY.sgln(self.ref, f"OR{post}") if post else MINISTRY.sgln(self.ref)


@dataclass(slots=True)
class County:
    code: str
    name: str
    province: str
    index: int
    population: int
    lat: float
    lon: float
    urban: bool
    store_ref: int = 0
    facilities: list[Facility] = field(default_factory=list)
    free_slots: list[int] = field(default_factory=list)

    @property
    def area(self) -> str:
        return area_uri(self.code)

    @property
    def target(self) -> int:
        return sum(f.target for f in self.facilities)


@dataclass(slots=True)
class Province:
    spec: ProvinceSpec
    index: int
    counties: list[County] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def store_ref(self) -> int:
        return STORE_BASE + 1 + self.index

    @property
    def population(self) -> int:
        return sum(c.population for c in self.counties)


@dataclass(slots=True)
class Country:
    population: int
    provinces: list[Province]
    central_ref: int = STORE_BASE

    def counties(self) -> list[County]:
        return [c for p in self.provinces for c in p.counties]

    def facilities(self) -> list[Facility]:
        return [f for c in self.counties() for f in c.facilities]


def area_uri(code: str) -> str:
    """Area identifier for master data: ``https://dosetrail.org/area/KP-03[/c007]``."""
    return f"https://dosetrail.org/area/{code}"


def build_country(population: int, seed: int) -> Country:
    """The country (or the seeded part of it) for a run of ``population`` people."""
    rng = random.Random(f"{seed}:geography")
    scale = NATIONAL_POPULATION / CENSUS_2008_CIVILIAN
    provinces: list[Province] = []
    block = 0
    for index, spec in enumerate(PROVINCES):
        province = Province(spec, index)
        weights = [rng.lognormvariate(0.0, 0.35) for _ in range(spec.counties)]
        total = sum(weights)
        urban_count = spec.counties if spec.special_city else max(1, round(spec.counties * 0.2))
        for i, w in enumerate(weights):
            lat = round(spec.lat + rng.gauss(0, 0.3), 4)
            lon = round(spec.lon + rng.gauss(0, 0.3), 4)
            urban = i < urban_count
            word = "district" if spec.special_city else ("city" if urban else "county")
            county = County(
                f"{spec.code}/c{i + 1:03d}",
                f"{spec.name} {word} {i + 1:02d}",
                spec.code,
                block,
                round(spec.census_2008 * scale * w / total),
                lat,
                lon,
                urban,
            )
            block += 1
            province.counties.append(county)
        provinces.append(province)
    chosen = _select(provinces, population, random.Random(f"{seed}:select:{population}"))
    for province in chosen:
        for county in province.counties:
            _populate(county, random.Random(f"{seed}:county:{county.code}"))
    return Country(population, chosen)


def _select(provinces: list[Province], population: int, rng: random.Random) -> list[Province]:
    everyone = sum(p.population for p in provinces)
    if population >= everyone:
        keep = provinces
    else:
        order = list(provinces)
        rng.shuffle(order)
        picked: dict[str, list[County]] = {}
        total = 0
        for province in order:
            if total + province.population <= population:
                picked[province.code] = list(province.counties)
                total += province.population
        for province in order:
            if province.code in picked:
                continue
            counties = list(province.counties)
            rng.shuffle(counties)
            for county in counties:
                if total + county.population <= population:
                    picked.setdefault(province.code, []).append(county)
                    total += county.population
        if not picked:
            smallest = min((c for p in order for c in p.counties), key=lambda c: c.population)
            picked[smallest.province] = [smallest]
            total = smallest.population
        keep = []
        for province in provinces:
            if province.code in picked:
                chosen = sorted(picked[province.code], key=lambda c: c.index)
                keep.append(Province(province.spec, province.index, chosen))
        factor = population / total
        for province in keep:
            for county in province.counties:
                county.population = max(1, round(county.population * factor))
    return keep


def _populate(county: County, rng: random.Random) -> None:
    """Facilities of one county: a county hospital and ri (rural) or dong (urban) clinics."""
    slots = list(range(1, COUNTY_BLOCK))
    rng.shuffle(slots)
    county.store_ref = county.index * COUNTY_BLOCK + slots.pop()
    clinics = min(150, max(2, round(county.population / 5200)))
    weights = [rng.lognormvariate(0.0, 0.3) for _ in range(clinics)]
    hospital_share = 0.08
    total_w = sum(weights)
    shares = [hospital_share] + [(1 - hospital_share) * w / total_w for w in weights]
    clinic_kind = "dong_clinic" if county.urban else "ri_clinic"
    for i, share in enumerate(shares):
        kind = "county_hospital" if i == 0 else clinic_kind
        population = max(1, round(county.population * share))
        adult = min(0.85, max(0.6, rng.gauss(ADULT_SHARE, 0.025)))
        mix = [max(0.01, m * rng.uniform(0.85, 1.15)) for m in AGE_MIX]
        norm = sum(mix)
        label = "county hospital" if i == 0 else f"{kind.replace('_', ' ')} {i:03d}"
        number = county.code.split("/c")[1]
        county.facilities.append(
            Facility(
                key=f"fac-{county.province.lower()}-{number}-{i:03d}",
                name=f"{county.name} {label}",
                kind=kind,
                ref=county.index * COUNTY_BLOCK + slots.pop(),
                population=population,
                target=max(1, round(population * adult)),
                age_mix=tuple(round(m / norm, 4) for m in mix),
                posts=0 if county.urban else min(2, int(population / 2500)),
                county=county.code,
                lat=round(county.lat + rng.gauss(0, 0.05), 4),
                lon=round(county.lon + rng.gauss(0, 0.05), 4),
            )
        )
    county.free_slots = sorted(slots)


def add_ghost(county: County, rng: random.Random, number: int) -> Facility:
    """A ghost clinic in ``county``: a plausible unused location reference in the county's block,
    a plausible size, a name in the same series as the real clinics."""
    slot = county.free_slots.pop(rng.randrange(len(county.free_slots)))
    template = county.facilities[1 + rng.randrange(len(county.facilities) - 1)]
    population = max(500, round(template.population * rng.uniform(0.7, 1.1)))
    kind = template.kind
    index = len(county.facilities) + number
    code = county.code.split("/c")[1]
    ghost = Facility(
        key=f"fac-{county.province.lower()}-{code}-{index:03d}",
        name=f"{county.name} {kind.replace('_', ' ')} {index:03d}",
        kind=kind,
        ref=county.index * COUNTY_BLOCK + slot,
        population=population,
        target=round(population * ADULT_SHARE),
        age_mix=template.age_mix,
        posts=0,
        county=county.code,
        lat=round(county.lat + rng.gauss(0, 0.05), 4),
        lon=round(county.lon + rng.gauss(0, 0.05), 4),
        ghost=True,
    )
    county.facilities.append(ghost)
    return ghost


def distance_days(a: tuple[float, float], b: tuple[float, float]) -> int:
    """Road transport days between two points: same day under ~150 km, else one per ~250 km."""
    km = math.hypot((a[0] - b[0]) * 111, (a[1] - b[1]) * 88)
    return 0 if km < 150 else 1 + int(km // 250)
