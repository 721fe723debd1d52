"""GS1 keys: check digits, character sets and the formats of the AIs a Digital Link path uses.

Sources:

- GS1 General Specifications §7.9.1 — the standard mod-10 check digit used by GTIN-8/12/13/14,
  GLN, SSCC, GRAI, GDTI, GSIN, GSRN, GCN and ITIP.
- GS1 General Specifications §7.11 — GS1 AI encodable character set 82 (Figure 7.11-1) and
  set 39 (Figure 7.11-2, used by the CPID).
- GS1 General Specifications §3.2 — formats of the application identifiers below (``N14``,
  ``N13+X..17`` ...).
- GS1 Digital Link URI Syntax 1.2+ — which AIs are primary keys, their key qualifiers and their
  order, the convenience short names (``gtin``, ``ser`` ...), and percent-encoding of AI values
  (every character outside the RFC 3986 *unreserved* set is escaped, upper-case hex, as GS1's own
  syntax engine does).

Only the AIs that can appear in a Digital Link *path* are described: the CBV 2.0 event hash drops
the query string, so data attributes never matter here. Everything is plain tables and precompiled
regular expressions: the canonical event hash calls into this module about a million times per
hundred thousand events. Hand-written tables were chosen over the ``biip`` package: ``biip`` has
no EPC URNs, no "finest key" rule, its check digit accepts any Unicode decimal digit
(``str.isdecimal``), and one parse builds several objects, which is slower than a table lookup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dosetrail.errors import InvalidDocument

__all__ = [
    "AI_FORMATS",
    "CSET39",
    "CSET82",
    "KEY_QUALIFIERS",
    "SHORT_NAMES",
    "AIFormat",
    "Elements",
    "ai_value_problems",
    "check_digit_problem",
    "gs1_check_digit",
    "has_valid_check_digit",
    "is_ascii_digits",
    "percent_decode",
    "percent_encode",
]

Elements = tuple[tuple[str, str], ...]
"""A GS1 key path: ``(AI, value)`` pairs, primary key first, values without URI escapes."""

CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
"""GS1 AI encodable character set 82 (General Specifications Figure 7.11-1)."""

CSET39 = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
"""GS1 AI encodable character set 39 (General Specifications Figure 7.11-2)."""

_DIGITS = frozenset("0123456789")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_RESERVED = re.compile(r"[^A-Za-z0-9._~-]")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})", re.ASCII)
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})", re.ASCII)


def is_ascii_digits(value: str) -> bool:
    """Whether ``value`` is non-empty and only ASCII ``0-9``: ``str.isdigit()`` alone also
    accepts other Unicode digits (``"٣"``, ``"３"``), which never occur in a GS1 key."""
    return value.isascii() and value.isdigit()


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit for ``payload`` (General Specifications §7.9.1).

    Digits are weighted 3, 1, 3, ... from the right. ``payload`` is the key without its check
    digit, e.g. the first 13 digits of a GTIN-14 or the first 17 of an SSCC.

    Raises:
        InvalidDocument: if ``payload`` is empty or not made of ASCII digits only.
    """
    if not is_ascii_digits(payload):
        raise InvalidDocument(f"a GS1 check digit needs ASCII digits, got {_shown(payload)}")
    codes = payload.encode("ascii")  # summing bytes avoids an int() per digit; '0' is 48
    odd, even = codes[-1::-2], codes[-2::-2]
    return -(3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)) % 10


def has_valid_check_digit(number: str) -> bool:
    """Whether the last digit of ``number`` is its GS1 check digit (GTIN, GLN, SSCC, GSRN ...).

    Returns ``False`` (never raises) for non-digits, non-ASCII digits or fewer than two digits.
    """
    if len(number) < 2 or not is_ascii_digits(number):
        return False
    return gs1_check_digit(number[:-1]) == int(number[-1])


def check_digit_problem(number: str, what: str) -> str | None:
    """A message if ``number`` (ASCII digits) does not end with its check digit, else ``None``."""
    if has_valid_check_digit(number):
        return None
    expected = gs1_check_digit(number[:-1])
    return f"{what} {number} has check digit {number[-1]}, expected {expected}"


def percent_encode(value: str) -> str:
    """Percent-encode an AI value for a Digital Link path segment (upper-case hex, UTF-8).

    Every character outside RFC 3986 *unreserved* (``A-Z a-z 0-9 - . _ ~``) is escaped, which is
    how GS1 Digital Link URI Syntax writes the CSET 82 characters ``! " % & ' ( ) * + , / : ; < =
    > ?``.
    """
    if _RESERVED.search(value) is None:
        return value
    return "".join(
        c if c in _UNRESERVED else "".join(f"%{b:02X}" for b in c.encode()) for c in value
    )


def percent_decode(value: str) -> str | None:
    """Undo ``%XX`` escapes (Latin-1 bytes); ``None`` if a ``%`` is not followed by two hex digits.

    Decoded bytes above 0x7F are never valid in a GS1 key, so they are not combined as UTF-8; the
    caller's character-set check rejects them.
    """
    if "%" not in value:
        return value
    if _BAD_ESCAPE.search(value):
        return None
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


@dataclass(frozen=True, slots=True)
class AIFormat:
    """The format of one application identifier's value (General Specifications §3.2).

    ``digits`` fixed leading digits (0 if none); ``check_at`` the index of the check digit in
    them, which covers the digits before it; ``rest`` the character set of the variable part
    (``"X"`` CSET 82, ``"Y"`` CSET 39, ``"N"`` digits, ``""`` none) with ``rest_min``..
    ``rest_max`` characters; ``zero_first`` for the GRAI's leading filler zero.
    """

    ai: str
    title: str
    digits: int = 0
    check_at: int | None = None
    rest: str = ""
    rest_min: int = 0
    rest_max: int = 0
    zero_first: bool = False


_FORMATS = (
    # primary keys that CBV 2.0 canonical Digital Links keep
    AIFormat("00", "SSCC", digits=18, check_at=17),
    AIFormat("01", "GTIN", digits=14, check_at=13),
    AIFormat("253", "GDTI", digits=13, check_at=12, rest="X", rest_max=17),
    AIFormat("255", "GCN", digits=13, check_at=12, rest="N", rest_max=12),
    AIFormat("401", "GINC", rest="X", rest_min=1, rest_max=30),
    AIFormat("402", "GSIN", digits=17, check_at=16),
    AIFormat("414", "GLN", digits=13, check_at=12),
    AIFormat("417", "party GLN", digits=13, check_at=12),
    AIFormat("8003", "GRAI", digits=14, check_at=13, rest="X", rest_max=16, zero_first=True),
    AIFormat("8004", "GIAI", rest="X", rest_min=1, rest_max=30),
    AIFormat("8006", "ITIP", digits=18, check_at=13),
    AIFormat("8010", "CPID", rest="Y", rest_min=1, rest_max=30),
    AIFormat("8017", "GSRNP", digits=18, check_at=17),
    AIFormat("8018", "GSRN", digits=18, check_at=17),
    # key qualifiers
    AIFormat("10", "batch/lot", rest="X", rest_min=1, rest_max=20),
    AIFormat("21", "serial number", rest="X", rest_min=1, rest_max=20),
    AIFormat("22", "consumer product variant", rest="X", rest_min=1, rest_max=20),
    AIFormat("235", "third-party serial (TPX)", rest="X", rest_min=1, rest_max=28),
    AIFormat("254", "GLN extension", rest="X", rest_min=1, rest_max=20),
    AIFormat("8011", "CPID serial", rest="N", rest_min=1, rest_max=12),
    AIFormat("8019", "service relation instance (SRIN)", rest="N", rest_min=1, rest_max=10),
)
AI_FORMATS: Mapping[str, AIFormat] = MappingProxyType({f.ai: f for f in _FORMATS})
"""Formats of the Digital Link path AIs, by AI."""

KEY_QUALIFIERS: Mapping[str, tuple[tuple[str, ...], ...]] = MappingProxyType(
    {
        "00": (),
        "01": (("22", "10", "21"), ("235",)),
        "253": (),
        "255": (),
        "401": (),
        "402": (),
        "414": (("254",),),
        "417": (),
        "8003": (),
        "8004": (),
        "8006": (("22", "10", "21"),),
        "8010": (("8011",),),
        "8017": (),
        "8018": (("8019",),),
    }
)
"""Primary key AI → the qualifier sequences it allows; any in-order subset of one may be used."""

SHORT_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "cpid": "8010",
        "cpsn": "8011",
        "cpv": "22",
        "gcn": "255",
        "gdti": "253",
        "giai": "8004",
        "ginc": "401",
        "gln": "414",
        "glnx": "254",
        "grai": "8003",
        "gsin": "402",
        "gsrn": "8018",
        "gsrnp": "8017",
        "gtin": "01",
        "itip": "8006",
        "lot": "10",
        "party": "417",
        "ser": "21",
        "srin": "8019",
        "sscc": "00",
    }
)
"""Digital Link convenience short names (deprecated, still accepted) → AI."""

_REST_SETS = {"X": CSET82, "Y": CSET39, "N": _DIGITS}
_REST_NAMES = {"X": "GS1 character set 82", "Y": "GS1 character set 39", "N": "digits 0-9"}


def ai_value_problems(ai: str, value: str, *, check_digits: bool = True) -> list[str]:
    """What is wrong with ``value`` (already percent-decoded) as the value of ``ai``.

    Checks length, digits, character set and, if ``check_digits``, the check digit. An empty list
    means the value is well-formed. ``ai`` must be a key of :data:`AI_FORMATS`.
    """
    fmt = AI_FORMATS[ai]
    name = f"{fmt.title} (AI {ai})"
    if fmt.rest:
        shortest, longest = fmt.digits + fmt.rest_min, fmt.digits + fmt.rest_max
        if not shortest <= len(value) <= longest:
            want = f"{shortest}" if shortest == longest else f"{shortest} to {longest}"
            return [f"{name} must have {want} characters, got {len(value)}"]
    elif len(value) != fmt.digits:
        return [f"{name} must have {fmt.digits} digits, got {len(value)}"]
    head, tail = value[: fmt.digits], value[fmt.digits :]
    if head and not is_ascii_digits(head):
        return [f"{name} must start with {fmt.digits} digits 0-9, got {_shown(head)}"]
    problems = []
    if tail and not set(tail) <= _REST_SETS[fmt.rest]:
        bad = "".join(sorted(set(tail) - _REST_SETS[fmt.rest]))
        problems.append(f"{name} may only use {_REST_NAMES[fmt.rest]}, got {_shown(bad)}")
    if fmt.zero_first and head[0] != "0":
        problems.append(f"{name} must start with the filler digit 0, got {head[0]}")
    if check_digits and fmt.check_at is not None:
        problem = check_digit_problem(head[: fmt.check_at + 1], name)
        if problem:
            problems.append(problem)
    return problems


def _shown(value: str, limit: int = 40) -> str:
    """``value`` quoted for a message, cut to ``limit`` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "…")
