"""GS1 Digital Link URIs: parsing, validation and the canonical form the CBV 2.0 event hash uses.

A Digital Link URI is ``http(s)://<any domain>[/<any stem>]/<key AI>/<value>[/<qualifier AI>/
<value>...][?query][#fragment]`` (GS1 Digital Link URI Syntax 1.2+). The key path is found as GS1's
syntax engine does: walking ``/AI/value`` pairs back from the end of the path until a primary key
is met, so a stem may itself contain digits.

The canonical form (CBV 2.0 §8.9 event hash, pre-hash rule for identifiers) is
``https://id.gs1.org`` + the key path with numeric AIs (short names such as ``gtin`` or ``ser``
replaced), the GTIN zero-padded to 14 digits, no query string or fragment, and only the finest
key level: serial beats lot, the consumer product variant (AI 22) and the SRIN (AI 8019) are
dropped, so the paths are 00, 01, 01/21, 01/10, 01/235, 253, 255, 401, 402, 414, 414/254, 417,
8003, 8004, 8006, 8006/21, 8006/10, 8010, 8010/8011, 8017, 8018. Values are percent-decoded and
re-encoded canonically, so ``%2f`` and ``%2F`` give the same URI.

Canonicalisation is syntactic: a wrong check digit does not stop it (the hash must be computable
for any document), :func:`digital_link_problems` reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dosetrail.epcis.gs1keys import (
    KEY_QUALIFIERS,
    SHORT_NAMES,
    Elements,
    ai_value_problems,
    percent_decode,
    percent_encode,
)
from dosetrail.errors import InvalidDocument, Location

__all__ = [
    "CANONICAL_STEM",
    "DigitalLink",
    "canonical_key_path",
    "digital_link_problems",
    "find_digital_link",
    "format_digital_link",
    "parse_digital_link",
]

CANONICAL_STEM = "https://id.gs1.org"

_QUALIFIER_AIS = frozenset(q for seqs in KEY_QUALIFIERS.values() for seq in seqs for q in seq)
_FINEST = {"01": ("21", "10", "235"), "8006": ("21", "10"), "8010": ("8011",), "414": ("254",)}
"""Key → qualifiers the canonical form keeps, finest first; at most one of them is kept."""
_ZERO_SUPPRESSED_GTIN = frozenset((8, 12, 13))


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """The key path of a GS1 Digital Link URI: ``(AI, value)`` pairs, key first, values decoded."""

    elements: Elements

    @property
    def key(self) -> str:
        """The primary key's AI, e.g. ``"01"``."""
        return self.elements[0][0]

    def value(self, ai: str) -> str | None:
        """The decoded value of ``ai`` in the path, if present."""
        for element_ai, value in self.elements:
            if element_ai == ai:
                return value
        return None

    def canonical(self) -> DigitalLink:
        """The same identifier at the finest key level CBV 2.0 keeps (see the module docstring)."""
        key_ai, key_value = self.elements[0]
        if key_ai == "01" and len(key_value) in _ZERO_SUPPRESSED_GTIN:
            key_value = key_value.zfill(14)
        kept: Elements = ((key_ai, key_value),)
        for ai in _FINEST.get(key_ai, ()):
            value = self.value(ai)
            if value is not None:
                kept += ((ai, value),)
                break
        return DigitalLink(kept)

    def uri(self, stem: str = CANONICAL_STEM) -> str:
        """This key path as a URI under ``stem``, values percent-encoded canonically."""
        return format_digital_link(self.elements, stem)


def format_digital_link(elements: Elements, stem: str = CANONICAL_STEM) -> str:
    """``stem`` + ``/AI/value`` for each pair, values percent-encoded canonically."""
    return stem + "".join([f"/{ai}/{percent_encode(value)}" for ai, value in elements])


def find_digital_link(uri: str) -> DigitalLink | None:
    """The key path of ``uri`` if it is shaped like a GS1 Digital Link URI, else ``None``.

    Only the shape is checked: http(s) scheme, a domain, and ``/AI/value`` pairs at the end of
    the path that start with a primary key and use qualifiers that key allows, in order. Values
    are percent-decoded (``None`` if an escape is broken); their format is not checked, see
    :func:`digital_link_problems`. A GTIN-8/12/13 in AI 01 is kept as written.
    """
    if uri[:8].lower() == "https://":
        rest = uri[8:]
    elif uri[:7].lower() == "http://":
        rest = uri[7:]
    else:
        return None
    rest = rest.partition("#")[0].partition("?")[0]
    domain, slash, path = rest.partition("/")
    if not domain or not slash:
        return None
    segments = path.split("/")
    start = len(segments) - 2
    while start >= 0:
        ai = SHORT_NAMES.get(segments[start], segments[start])
        if ai in KEY_QUALIFIERS:
            break
        if ai not in _QUALIFIER_AIS:
            return None
        start -= 2
    if start < 0:
        return None
    elements = []
    for i in range(start, len(segments), 2):
        value = percent_decode(segments[i + 1])
        if not value:
            return None
        elements.append((SHORT_NAMES.get(segments[i], segments[i]), value))
    link = DigitalLink(tuple(elements))
    return link if _qualifiers_allowed(link) else None


def _qualifiers_allowed(link: DigitalLink) -> bool:
    qualifiers = [ai for ai, _ in link.elements[1:]]
    if not qualifiers:
        return True
    for sequence in KEY_QUALIFIERS[link.key]:
        position = 0
        for ai in qualifiers:
            try:
                position = sequence.index(ai, position) + 1
            except ValueError:
                break
        else:
            return True
    return False


def digital_link_problems(link: DigitalLink, *, check_digits: bool = True) -> list[str]:
    """Format problems of each value of ``link`` (lengths, characters, check digits)."""
    problems = []
    for ai, value in link.elements:
        if ai == "01" and len(value) != 14:
            if len(value) not in _ZERO_SUPPRESSED_GTIN:
                problems.append(f"GTIN (AI 01) must have 8, 12, 13 or 14 digits, got {len(value)}")
                continue
            value = value.zfill(14)
        problems += ai_value_problems(ai, value, check_digits=check_digits)
    return problems


def parse_digital_link(uri: str, *, field: str | None = None) -> DigitalLink:
    """Parse and validate a GS1 Digital Link URI (check digits included).

    Raises:
        InvalidDocument: if ``uri`` is not a GS1 Digital Link URI or a value is malformed; the
            message says what is wrong, the location names ``field``.
    """
    link = find_digital_link(uri)
    if link is None:
        raise InvalidDocument(
            f"{uri[:80]!r} is not a GS1 Digital Link URI (no GS1 key path such as /01/<GTIN>)",
            Location(field=field),
        )
    problems = digital_link_problems(link)
    if problems:
        raise InvalidDocument("; ".join(problems), Location(field=field))
    return link


def canonical_key_path(uri: str) -> DigitalLink | None:
    """The canonical key path of ``uri``, or ``None`` if it is not a well-formed Digital Link."""
    link = find_digital_link(uri)
    if link is None or digital_link_problems(link, check_digits=False):
        return None
    return link.canonical()
