"""EPCIS timestamps: parsing, validation and the canonical UTC millisecond form.

EPCIS 2.0 §7.3.4 / XSD ``DateTimeStamp``: ``YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)``; an offset is
mandatory. CBV 2.0 §8.9.2 (event hash ID) renders every time in UTC with exactly three fractional
digits, rounding half up on the fourth digit and carrying into the next second when needed
(``23:59:59.9995Z`` becomes the next day's ``00:00:00.000Z``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

__all__ = [
    "TimestampError",
    "canonical_time",
    "from_micros",
    "is_valid_time",
    "parse_offset",
    "parse_time",
    "to_micros",
]

_STAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d\d):(\d\d))?"
)
_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(stamp: datetime) -> int:
    """Microseconds since the Unix epoch (exact, also before 1970)."""
    return (stamp - _EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


class TimestampError(ValueError):
    """Not an EPCIS timestamp; the message says which part is wrong."""


def parse_time(text: str, *, require_offset: bool = True) -> tuple[datetime, int]:
    """Parse an EPCIS timestamp to an aware UTC datetime plus the sub-microsecond remainder.

    The remainder is in units of 10^-9 s beyond the microsecond (0..999), so that rounding
    to milliseconds is exact whatever the number of fractional digits.
    """
    m = _STAMP.fullmatch(text.strip())
    if not m:
        raise TimestampError(f"{text!r} is not an ISO 8601 date-time (YYYY-MM-DDThh:mm:ss±hh:mm)")
    year, month, day, hour, minute, second, frac, zulu, sign, oh, om = m.groups()
    if not zulu and not sign:
        if require_offset:
            raise TimestampError(f"{text!r} has no time zone offset (Z or ±hh:mm)")
        zulu = "Z"
    if int(second) > 59:
        raise TimestampError(f"{text!r}: seconds out of range")
    digits = (frac or "").ljust(9, "0")[:9]
    micro, nano = int(digits[:6]), int(digits[6:9])
    try:
        stamp = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro
        )
    except ValueError as e:
        raise TimestampError(f"{text!r}: {e}") from e
    if sign:
        minutes = int(oh) * 60 + int(om)
        if int(om) > 59 or minutes > 14 * 60:
            raise TimestampError(f"{text!r}: time zone offset out of range")
        delta = timedelta(minutes=minutes)
        stamp = stamp - delta if sign == "+" else stamp + delta
    return stamp.replace(tzinfo=UTC), nano


def parse_offset(text: str) -> int:
    """Minutes east of UTC for an ``eventTimeZoneOffset`` such as ``+05:30``."""
    m = _OFFSET.fullmatch(text.strip())
    if not m or int(m.group(3)) > 59:
        raise TimestampError(f"{text!r} is not a time zone offset (±hh:mm)")
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    if minutes > 14 * 60:
        raise TimestampError(f"{text!r}: time zone offset beyond ±14:00")
    return minutes if m.group(1) == "+" else -minutes


_FAST = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d)(:[0-5]\d)(?:\.(\d{1,3}))?(Z|[+-]\d\d:\d\d)")


def canonical_time(text: str) -> str:
    """The CBV 2.0 hash form ``YYYY-MM-DDThh:mm:ss.mmmZ``; unparseable text is returned stripped.

    A value without an offset is read as UTC (validation reports the missing offset separately).
    Every event has its own time, so the common shape (at most millisecond precision, no rounding
    needed) converts only its minute to UTC, and that conversion is cached.
    """
    fast = _FAST.fullmatch(text)
    if fast is not None:
        minute, seconds, millis, zone = fast.groups()
        utc_minute = _utc_minute(minute, zone)
        if utc_minute is not None:
            return f"{utc_minute}{seconds}.{(millis or '').ljust(3, '0')}Z"
    return _canonical_time(text)


def is_valid_time(text: str) -> bool:
    """Whether ``text`` is an EPCIS timestamp with an offset (fast for the common shape)."""
    fast = _FAST.fullmatch(text)
    if fast is not None and _utc_minute(fast.group(1), fast.group(4)) is not None:
        return True
    try:
        parse_time(text)
    except (TimestampError, OverflowError):
        return False
    return True


@lru_cache(maxsize=1 << 14)
def _utc_minute(minute: str, zone: str) -> str | None:
    """``YYYY-MM-DDThh:mm`` at offset ``zone`` as the same minute in UTC."""
    converted = _canonical_time(f"{minute}:00{zone}")
    return converted[:16] if converted.endswith(":00.000Z") else None


@lru_cache(maxsize=1 << 12)
def _canonical_time(text: str) -> str:
    try:
        stamp, nano = parse_time(text, require_offset=False)
    except (TimestampError, OverflowError):
        return text.strip()
    # Round half up at the fourth fractional digit, with carry (CBV 2.0 §8.9.2).
    sub_milli = (stamp.microsecond % 1000) * 1000 + nano
    stamp = stamp.replace(microsecond=stamp.microsecond - stamp.microsecond % 1000)
    if sub_milli >= 500_000:
        try:
            stamp += timedelta(milliseconds=1)
        except OverflowError:
            return text.strip()
    return f"{stamp:%Y-%m-%dT%H:%M:%S}.{stamp.microsecond // 1000:03d}Z"
