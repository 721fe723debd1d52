"""When things happen: the campaign calendar and the clock that writes EPCIS timestamps.

The calendar (``--days`` long, default 60) follows a real two-dose campaign: two days of
production and packing, sea freight to Nampo (up to 10 days), port entry, receipt at the central
store, a six-day distribution wave (central → provincial → county stores → facilities), round 1
(dose 1, up to 8 days), a second tranche by air and rail through Sinuiju, a second wave, round 2
(dose 2, up to 28 days after round 1), and a stock count the day after. Shorter runs compress
transit, rounds and the dose interval; nothing reads the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from dosetrail.errors import DosetrailError

__all__ = ["DEFAULT_DAYS", "DEFAULT_START", "MIN_DAYS", "Clock", "Timeline"]

DEFAULT_DAYS = 60
MIN_DAYS = 24
DEFAULT_START = date(2025, 3, 3)
WAVE_DAYS = 6  # central ships on day W, facilities vaccinate from W + 6


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


@dataclass(frozen=True, slots=True)
class Timeline:
    days: int
    sea_days: int
    round_days: int
    production_a: tuple[int, int]
    ship_a: int
    arrive_a: int
    central_a: int
    round1: int
    round2: int
    production_b: tuple[int, int]
    ship_b: int
    border_b: int
    central_b: int
    close: int

    @property
    def wave1(self) -> int:
        return self.round1 - WAVE_DAYS

    @property
    def wave2(self) -> int:
        return self.round2 - WAVE_DAYS

    @property
    def short_expiry(self) -> int:
        """Day the short-dated first lot expires (mid round 2), so expiry wastage happens."""
        return self.round2 + self.round_days // 2

    def session_days(self, round_number: int) -> range:
        start = self.round1 if round_number == 1 else self.round2
        return range(start, start + self.round_days)

    @classmethod
    def build(cls, days: int) -> Timeline:
        """The calendar for a run of ``days`` days.

        Raises:
            DosetrailError: if ``days`` is too short for two rounds.
        """
        if days < MIN_DAYS:
            raise DosetrailError(f"--days must be at least {MIN_DAYS} for a two-dose campaign")
        sea = _clamp(round(days * 0.17), 2, 10)
        round_days = _clamp(round(days * 0.13), 2, 8)
        ship_a = 2
        arrive_a = ship_a + sea
        central_a = arrive_a + 1
        round1 = central_a + 1 + WAVE_DAYS
        interval = _clamp(days - 3 - round1 - round_days, round_days + 1, 28)
        round2 = round1 + interval
        wave2 = round2 - WAVE_DAYS
        close = round2 + round_days
        if close > days - 1:
            raise DosetrailError(f"--days {days} is too short for two rounds; try {close + 1}")
        return cls(
            days=days,
            sea_days=sea,
            round_days=round_days,
            production_a=(0, 1),
            ship_a=ship_a,
            arrive_a=arrive_a,
            central_a=central_a,
            round1=round1,
            round2=round2,
            production_b=(wave2 - 7, wave2 - 6),
            ship_b=wave2 - 5,
            border_b=wave2 - 4,
            central_b=wave2 - 2,
            close=close,
        )


class Clock:
    """EPCIS timestamps for (day, minute of day) in a party's UTC offset, and sort keys."""

    def __init__(self, start: date) -> None:
        self.start = start

    @lru_cache(maxsize=4096)  # noqa: B019 - one clock per run, few distinct days
    def date(self, day: int) -> str:
        return (self.start + timedelta(days=day)).isoformat()

    def stamp(self, day: int, minute: int, offset: str) -> str:
        """``YYYY-MM-DDThh:mm:00±hh:mm``; ``minute`` may run past midnight into the next day."""
        day += minute // 1440
        minute %= 1440
        return f"{self.date(day)}T{minute // 60:02d}:{minute % 60:02d}:00{offset}"

    @staticmethod
    def key(day: int, minute: int, offset: str) -> int:
        """Minutes since the run's start in UTC: orders events recorded in different offsets."""
        sign = -1 if offset[0] == "-" else 1
        shift = sign * (int(offset[1:3]) * 60 + int(offset[4:6]))
        return day * 1440 + minute - shift

    @lru_cache(maxsize=1024)  # noqa: B019
    def day_times(self, day: int, interval: int, offset: str) -> tuple[str, ...]:
        """Logger reading times for one local day at ``interval`` minutes."""
        d = self.date(day)
        return tuple(f"{d}T{m // 60:02d}:{m % 60:02d}:00{offset}" for m in range(0, 1440, interval))
