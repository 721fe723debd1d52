"""Identifier conversions and checks: EPC URIs ⇄ GS1 Digital Link URIs, the identifier
normalisation of the CBV 2.0 event hash (CBV 2.0 §8.9), and the checks the validator runs on
every EPC, parentID, readPoint / bizLocation id, source and destination.

The grammar of each form lives in :mod:`dosetrail.epcis.epc_uri` (GS1 EPC Tag Data Standard 2.x)
and :mod:`dosetrail.epcis.digital_link` (GS1 Digital Link URI Syntax 1.2+); this module joins
them. :func:`normalise_epc` is the hot path of the event hash (about ten calls per event): it is
cached and never raises.

Example::

    >>> epc_to_digital_link("urn:epc:id:sgtin:4012345.011111.987")
    'https://id.gs1.org/01/04012345111118/21/987'
    >>> digital_link_to_epc("https://example.com/gtin/4012345111118/ser/987", 7)
    'urn:epc:id:sgtin:4012345.011111.987'
"""

from __future__ import annotations

import re
from functools import lru_cache

from dosetrail.epcis.digital_link import (
    canonical_key_path,
    digital_link_problems,
    find_digital_link,
    format_digital_link,
)
from dosetrail.epcis.epc_uri import format_epc_uri, parse_epc_uri
from dosetrail.epcis.gs1keys import gs1_check_digit
from dosetrail.errors import InvalidDocument, Location

__all__ = [
    "MAX_IDENTIFIER_LENGTH",
    "canonical_digital_link",
    "check_identifier",
    "digital_link_to_epc",
    "epc_to_digital_link",
    "normalise_epc",
]

MAX_IDENTIFIER_LENGTH = 2048
"""Longer strings are never treated as identifiers, and :func:`check_identifier` rejects them."""

_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:.", re.ASCII | re.DOTALL)
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def _shown(uri: str) -> str:
    return repr(uri if len(uri) <= 80 else uri[:80] + "…")


def epc_to_digital_link(uri: str, *, field: str | None = None) -> str:
    """The canonical GS1 Digital Link URI of an EPC URI (``urn:epc:id|class|idpat:...``).

    Raises:
        InvalidDocument: if ``uri`` breaks the TDS grammar or names no single GS1 key (``gid``,
            non-GS1 schemes, patterns wider than one class); the location names ``field``.
    """
    try:
        elements = parse_epc_uri(uri)
    except InvalidDocument as e:
        raise InvalidDocument(f"{_shown(uri)}: {e.message}", Location(field=field)) from None
    if elements is None:
        raise InvalidDocument(
            f"{_shown(uri)} has no GS1 Digital Link equivalent (it names no single GS1 key)",
            Location(field=field),
        )
    return format_digital_link(elements)


def digital_link_to_epc(
    uri: str, company_prefix_length: int | None = None, *, field: str | None = None
) -> str:
    """The EPC URI of a GS1 Digital Link URI, given the length of its GS1 Company Prefix.

    The Digital Link is canonicalised first (finest key level: a serial wins over a lot). A key
    without a serial gives its class or pattern URI (``/01/<gtin>`` →
    ``urn:epc:idpat:sgtin:<cp>.<ir>.*``, ``/01/<gtin>/10/<lot>`` → ``urn:epc:class:lgtin:...``).
    ``uri`` is returned unchanged if it is not a Digital Link (e.g. already an EPC URI) or if
    ``company_prefix_length`` is ``None``: the prefix length cannot be read from a Digital Link.

    Raises:
        InvalidDocument: if the Digital Link is malformed (check digits included), the length is
            not 6 to 12 or does not fit the key, or the key has no EPC URI.
    """
    link = find_digital_link(uri) if len(uri) <= MAX_IDENTIFIER_LENGTH else None
    if link is None or company_prefix_length is None:
        return uri
    problems = digital_link_problems(link)
    if not problems:
        try:
            return format_epc_uri(link.canonical().elements, company_prefix_length)
        except InvalidDocument as e:
            problems = [e.message]
    raise InvalidDocument(f"{_shown(uri)}: {'; '.join(problems)}", Location(field=field))


def canonical_digital_link(uri: str) -> str:
    """The canonical form the CBV 2.0 event hash uses for a GS1 Digital Link URI.

    Custom domain → ``https://id.gs1.org``, query and fragment dropped, short names → AIs, GTIN
    padded to 14 digits, finest key level only (see :mod:`dosetrail.epcis.digital_link`). Any
    other string, a malformed Digital Link included, is returned unchanged.
    """
    if len(uri) > MAX_IDENTIFIER_LENGTH:
        return uri
    return _canonical_digital_link(uri)


def _canonical_digital_link(uri: str) -> str:
    path = canonical_key_path(uri)
    return uri if path is None else format_digital_link(path.elements)


def normalise_epc(uri: str) -> str:
    """An identifier as the CBV 2.0 event hash writes it.

    EPC URIs (``urn:epc:id:``, ``urn:epc:class:``, ``urn:epc:idpat:``) and GS1 Digital Link URIs
    become canonical Digital Link URIs; anything else, malformed EPC URIs and EPC URIs naming no
    single GS1 key included, is returned unchanged. Never raises.
    """
    if len(uri) > MAX_IDENTIFIER_LENGTH:
        return uri
    return _normalise_epc(uri)


# The common case, an SGTIN whose serial needs no escaping, skips the general grammar: every vial
# has its own serial (cache misses), but a campaign has few GTINs (the check digit is cached).
_PLAIN_SGTIN = re.compile(r"urn:epc:id:sgtin:([0-9]{6,12})\.([0-9]{1,7})\.([A-Za-z0-9._-]{1,20})")


@lru_cache(maxsize=1 << 12)
def _gtin14(cp: str, ir: str) -> str:
    """GTIN-14 from company prefix and indicator + item reference (TDS §7.1)."""
    digits = ir[0] + cp + ir[1:]
    return digits + str(gs1_check_digit(digits))


@lru_cache(maxsize=1 << 16)
def _normalise_epc(uri: str) -> str:
    plain = _PLAIN_SGTIN.fullmatch(uri)
    if plain is not None and len(plain.group(1)) + len(plain.group(2)) == 13:
        cp, ir, serial = plain.groups()
        return f"https://id.gs1.org/01/{_gtin14(cp, ir)}/21/{serial}"
    if uri.startswith("urn:epc:"):
        try:
            elements = parse_epc_uri(uri)
        except InvalidDocument:
            return uri
        return uri if elements is None else format_digital_link(elements)
    if uri[:4].lower() == "http":
        return _canonical_digital_link(uri)
    return uri


def check_identifier(uri: str) -> list[str]:
    """What is wrong with ``uri`` as an EPCIS identifier; an empty list if nothing is.

    EPC URIs are checked against the TDS grammar (lengths, digits, characters); GS1 Digital Link
    URIs against the AI formats, check digits included (an ``https://id.gs1.org`` URI must carry
    a key). Other absolute URIs pass (EPCIS allows any URI); strings that are not absolute URIs,
    contain spaces or control characters, or exceed :data:`MAX_IDENTIFIER_LENGTH` do not.
    """
    if len(uri) > MAX_IDENTIFIER_LENGTH:
        return [f"identifier has {len(uri)} characters, more than {MAX_IDENTIFIER_LENGTH}"]
    return list(_identifier_problems(uri))


@lru_cache(maxsize=1 << 14)
def _identifier_problems(uri: str) -> tuple[str, ...]:
    return tuple(_problems(uri))


def _problems(uri: str) -> list[str]:
    plain = _PLAIN_SGTIN.fullmatch(uri)
    if plain is not None and len(plain.group(1)) + len(plain.group(2)) == 13:
        return []  # the grammar's answer for this shape (see _normalise_epc)
    if _SPACE_OR_CONTROL.search(uri):
        return [f"{_shown(uri)} contains spaces or control characters"]
    if uri[:8].lower() == "urn:epc:":
        if not uri.startswith("urn:epc:"):
            return [f"{_shown(uri)}: write EPC URIs in lower case ('urn:epc:...')"]
        try:
            parse_epc_uri(uri)
        except InvalidDocument as e:
            return [f"{_shown(uri)}: {e.message}"]
        return []
    if uri[:8].lower().startswith(("http://", "https://")):
        link = find_digital_link(uri)
        if link is not None:
            return [f"{_shown(uri)}: {problem}" for problem in digital_link_problems(link)]
        authority = uri.partition("//")[2].partition("/")[0].partition("?")[0]
        if authority.lower() == "id.gs1.org":
            return [f"{_shown(uri)} names no GS1 key (expected e.g. /01/<GTIN>/21/<serial>)"]
        return []
    if not _ABSOLUTE_URI.match(uri):
        return [f"{_shown(uri)} is not an absolute URI (expected e.g. urn:epc:id:sgtin:...)"]
    return []
