"""EPC URIs (GS1 EPC Tag Data Standard 2.x): their grammar, and the GS1 keys they stand for.

- TDS §5 common grammar: the GS3A3 component (75 characters as they are, ``" % & / < > ?`` as
  ``%XX`` escapes, any GS1 CSET 82 character may be escaped) and the CPI's CPRef component.
- TDS §6.3 pure identity URIs (``urn:epc:id:sgtin:<company prefix>.<indicator + item ref>.
  <serial>`` ...), §6.4 the LGTIN class URI, §8 pattern URIs (``urn:epc:idpat:``).
- TDS §7 correspondence with GS1 keys: where the indicator / extension digit goes, the GRAI's
  filler zero, check digits computed, the SGLN extension ``0`` meaning "no extension".

The GS1 Company Prefix length is the position of the first dot in an EPC URI; going back from a
key (:func:`format_epc_uri`) it must be given. Supported: sgtin, sscc, sgln, grai, giai, gsrn,
gsrnp, gdti, cpi, sgcn, ginc, gsin, itip, upui, pgln, ``urn:epc:class:lgtin`` and the patterns
that name one class (``urn:epc:idpat:sgtin:<cp>.<ir>.*``, likewise grai, gdti, sgcn, cpi, itip,
upui). ``gid`` and the non-GS1 schemes (usdod, adi, bic, imovn) are accepted but have no key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from dosetrail.epcis.gs1keys import (
    CSET39,
    CSET82,
    Elements,
    gs1_check_digit,
    is_ascii_digits,
    percent_decode,
)
from dosetrail.errors import InvalidDocument

__all__ = ["format_epc_uri", "parse_epc_uri"]


# ---- EPC URI components (TDS §5) -----------------------------------------------------------
_COMPONENT_PATTERNS = {
    "N": "[0-9]+",  # PaddedNumericComponent
    "N0": "[0-9]*",  # ... or empty, when the company prefix has 12 digits
    "P": "[0-9]{2}",  # ITIP piece / total
    "X": r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2})+",  # GS3A3Component
    "Y": "(?:[0-9A-Z-]|%2[3Ff])+",  # CPRefComponent: '#' and '/' only as %23 and %2F
    "*": r"\*",
}
_COMPONENT_KINDS = {
    "N": "digits 0-9",
    "N0": "digits 0-9",
    "P": "two digits",
    "X": "the characters TDS allows (others as %XX escapes)",
    "Y": "digits, upper-case letters, '-', %23 or %2F",
    "*": "'*'",
}
_URN_ESCAPES = str.maketrans(
    {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
)
_CPREF_ESCAPES = str.maketrans({"#": "%23", "/": "%2F"})


def _text(raw: str, longest: int, what: str, charset: frozenset[str] = CSET82) -> str:
    """Decode a GS3A3 / CPRef component and check its characters and length."""
    value = raw
    if "%" in raw:
        decoded = percent_decode(raw)
        if decoded is None or not set(decoded) <= charset:
            raise InvalidDocument(f"the {what} escapes a character outside the GS1 character set")
        value = decoded
    if len(value) > longest:
        raise InvalidDocument(
            f"the {what} must have at most {longest} characters, got {len(value)}"
        )
    return value


def _company(cp: str, ref: str, total: int, what: str) -> str:
    """``cp + ref`` after checking the company prefix length and the combined length."""
    if not 6 <= len(cp) <= 12:
        raise InvalidDocument(f"the GS1 Company Prefix must have 6 to 12 digits, got {len(cp)}")
    if len(cp) + len(ref) != total:
        raise InvalidDocument(
            f"the GS1 Company Prefix and the {what} must have {total} digits together, "
            f"got {len(cp) + len(ref)}"
        )
    return cp + ref


def _prefixed(cp: str, ref: str, longest: int, what: str, charset: frozenset[str]) -> str:
    """GIAI, GINC, CPID: company prefix then free text, at most ``longest`` characters in all."""
    if not 6 <= len(cp) <= 12:
        raise InvalidDocument(f"the GS1 Company Prefix must have 6 to 12 digits, got {len(cp)}")
    return cp + _text(ref, longest - len(cp), what, charset)


@lru_cache(maxsize=1 << 12)
def _cd(digits: str) -> str:
    """``digits`` with their check digit. Cached: a campaign has few GTINs and many serials."""
    return digits + str(gs1_check_digit(digits))


def _gtin(cp: str, ir: str) -> str:
    """GTIN-14 from company prefix and indicator + item reference (TDS §7.1)."""
    _company(cp, ir, 13, "indicator digit and item reference")
    return _cd(ir[0] + cp + ir[1:])


def _serial_number(raw: str, what: str) -> str:
    if len(raw) > 12:
        raise InvalidDocument(f"the {what} must have at most 12 digits, got {len(raw)}")
    return raw


# ---- builders: URI components → (AI, value) pairs (TDS §7) ---------------------------------
def _sgtin(g: tuple[str, ...]) -> Elements:
    return (("01", _gtin(g[0], g[1])), ("21", _text(g[2], 20, "serial")))


def _sscc(g: tuple[str, ...]) -> Elements:
    cp, sr = g
    _company(cp, sr, 17, "extension digit and serial reference")
    return (("00", _cd(sr[0] + cp + sr[1:])),)


def _sgln(g: tuple[str, ...]) -> Elements:
    gln = _cd(_company(g[0], g[1], 12, "location reference"))
    ext = _text(g[2], 20, "extension")
    return (("414", gln),) if ext == "0" else (("414", gln), ("254", ext))


def _grai(g: tuple[str, ...]) -> Elements:
    serial = _text(g[2], 16, "serial") if len(g) > 2 else ""
    return (("8003", "0" + _cd(_company(g[0], g[1], 12, "asset type")) + serial),)


def _plain(ai: str, digits: int, what: str) -> Callable[[tuple[str, ...]], Elements]:
    """Builder of a key that is company prefix + reference + check digit (GSRN, GSIN, PGLN)."""
    return lambda g: ((ai, _cd(_company(g[0], g[1], digits, what))),)


def _giai(g: tuple[str, ...]) -> Elements:
    return (("8004", _prefixed(g[0], g[1], 30, "individual asset reference", CSET82)),)


def _gdti(g: tuple[str, ...]) -> Elements:
    serial = _text(g[2], 17, "serial") if len(g) > 2 else ""
    return (("253", _cd(_company(g[0], g[1], 12, "document type")) + serial),)


def _cpi(g: tuple[str, ...]) -> Elements:
    cpid = ("8010", _prefixed(g[0], g[1], 30, "component/part reference", CSET39))
    if len(g) == 2:
        return (cpid,)
    return (cpid, ("8011", _serial_number(g[2], "serial")))


def _sgcn(g: tuple[str, ...]) -> Elements:
    serial = _serial_number(g[2], "serial") if len(g) > 2 else ""
    return (("255", _cd(_company(g[0], g[1], 12, "coupon reference")) + serial),)


def _ginc(g: tuple[str, ...]) -> Elements:
    return (("401", _prefixed(g[0], g[1], 30, "consignment reference", CSET82)),)


def _itip(g: tuple[str, ...]) -> Elements:
    itip = ("8006", _gtin(g[0], g[1]) + g[2] + g[3])
    if len(g) == 4:
        return (itip,)
    return (itip, ("21", _text(g[4], 20, "serial")))


def _upui(g: tuple[str, ...]) -> Elements:
    gtin = ("01", _gtin(g[0], g[1]))
    if len(g) == 2:
        return (gtin,)
    return (gtin, ("235", _text(g[2], 28, "third-party serial (TPX)")))


def _lgtin(g: tuple[str, ...]) -> Elements:
    return (("01", _gtin(g[0], g[1])), ("10", _text(g[2], 20, "lot")))


def _no_key(g: tuple[str, ...]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Syntax:
    """One EPC URI body: its components (kind code, name) and what it converts to."""

    components: tuple[tuple[str, str], ...]
    build: Callable[[tuple[str, ...]], Elements | None]
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, build: Callable[[tuple[str, ...]], Elements | None], *components: str) -> _Syntax:
        parts = tuple((kind, name) for kind, _, name in (c.partition(":") for c in components))
        regex = r"\.".join(  # a '*' is matched but not captured
            _COMPONENT_PATTERNS[kind] if kind == "*" else f"({_COMPONENT_PATTERNS[kind]})"
            for kind, _ in parts
        )
        return cls(parts, build, re.compile(regex, re.ASCII | re.DOTALL))

    @property
    def shape(self) -> str:
        return ".".join("*" if kind == "*" else f"<{name}>" for kind, name in self.components)


_CP = "N:GS1 Company Prefix"
_IR = "N:indicator digit and item reference"
_ID = {
    "sgtin": _Syntax.of(_sgtin, _CP, _IR, "X:serial"),
    "sscc": _Syntax.of(_sscc, _CP, "N:extension digit and serial reference"),
    "sgln": _Syntax.of(_sgln, _CP, "N0:location reference", "X:extension"),
    "grai": _Syntax.of(_grai, _CP, "N0:asset type", "X:serial"),
    "giai": _Syntax.of(_giai, _CP, "X:individual asset reference"),
    "gsrn": _Syntax.of(_plain("8018", 17, "service reference"), _CP, "N:service reference"),
    "gsrnp": _Syntax.of(_plain("8017", 17, "service reference"), _CP, "N:service reference"),
    "gdti": _Syntax.of(_gdti, _CP, "N0:document type", "X:serial"),
    "cpi": _Syntax.of(_cpi, _CP, "Y:component/part reference", "N:serial"),
    "sgcn": _Syntax.of(_sgcn, _CP, "N0:coupon reference", "N:serial"),
    "ginc": _Syntax.of(_ginc, _CP, "X:consignment reference"),
    "gsin": _Syntax.of(_plain("402", 16, "shipper reference"), _CP, "N:shipper reference"),
    "itip": _Syntax.of(_itip, _CP, _IR, "P:piece", "P:total", "X:serial"),
    "upui": _Syntax.of(_upui, _CP, _IR, "X:third-party serial (TPX)"),
    "pgln": _Syntax.of(_plain("417", 12, "party reference"), _CP, "N0:party reference"),
    "gid": _Syntax.of(_no_key, "N:manager number", "N:object class", "N:serial"),
}
_CLASS = {"lgtin": _Syntax.of(_lgtin, _CP, _IR, "X:lot")}
_IDPAT = {  # the patterns that name exactly one class of a GS1 key (TDS §8)
    "sgtin": _Syntax.of(_upui, _CP, _IR, "*:"),
    "upui": _Syntax.of(_upui, _CP, _IR, "*:"),
    "grai": _Syntax.of(_grai, _CP, "N0:asset type", "*:"),
    "gdti": _Syntax.of(_gdti, _CP, "N0:document type", "*:"),
    "sgcn": _Syntax.of(_sgcn, _CP, "N0:coupon reference", "*:"),
    "cpi": _Syntax.of(_cpi, _CP, "Y:component/part reference", "*:"),
    "itip": _Syntax.of(_itip, _CP, _IR, "P:piece", "P:total", "*:"),
}
_TABLES = {"id": _ID, "class": _CLASS, "idpat": _IDPAT}
_OTHER_SCHEMES = frozenset(("usdod", "adi", "bic", "imovn"))
"""EPC schemes with no GS1 key (TDS §6.3), accepted as they are."""


def _diagnose(syntax: _Syntax, body: str, prefix: str) -> str:
    """Why ``body`` does not fit ``syntax``: the first component that is wrong, or the shape."""
    parts = body.split(".", len(syntax.components) - 1)
    if len(parts) == len(syntax.components):
        for (kind, name), part in zip(syntax.components, parts, strict=True):
            if not re.fullmatch(_COMPONENT_PATTERNS[kind], part, re.ASCII | re.DOTALL):
                got = f"{part[:30]!r}" if part else "nothing"
                return f"the {name} must be {_COMPONENT_KINDS[kind]}, got {got}"
    return f"expected {prefix}{syntax.shape}"


def _pattern_problem(scheme: str, body: str, prefix: str) -> str | None:
    """Check a pattern URI with no Digital Link form: known scheme, trailing ``*`` components."""
    syntax = _ID.get(scheme)
    if syntax is None:
        return f"unknown EPC pattern scheme {scheme!r}"
    parts = body.split(".", len(syntax.components) - 1)
    if len(parts) != len(syntax.components):
        return f"expected {prefix}{syntax.shape} with '*' for any trailing component"
    starred = False
    for (kind, name), part in zip(syntax.components, parts, strict=True):
        if part == "*":
            starred = True
        elif starred:
            return f"the {name} must be '*' after a '*' component"
        elif not re.fullmatch(_COMPONENT_PATTERNS[kind], part, re.ASCII | re.DOTALL):
            return f"the {name} must be {_COMPONENT_KINDS[kind]} or '*', got {part[:30]!r}"
    return None


def parse_epc_uri(uri: str) -> Elements | None:
    """The GS1 key path of an EPC URI; ``None`` if it is valid but names no single GS1 key.

    Raises:
        InvalidDocument: if the URI breaks the TDS grammar (message without the URI itself).
    """
    parts = uri.split(":", 4)
    if len(parts) != 5 or parts[0] != "urn" or parts[1] != "epc":
        raise InvalidDocument("expected urn:epc:<id|class|idpat>:<scheme>:<body>")
    _, _, kind, scheme, body = parts
    table = _TABLES.get(kind)
    if table is None:
        raise InvalidDocument(f"unknown EPC URI kind {kind!r} (expected id, class or idpat)")
    if kind == "idpat" and "*" not in body:
        table = _ID  # a pattern without wildcards names one EPC
    syntax = table.get(scheme)
    if syntax is not None:
        match = syntax.pattern.fullmatch(body)
        if match is not None:
            return syntax.build(match.groups())
    prefix = f"urn:epc:{kind}:{scheme}:"
    if syntax is None:
        if kind == "id" and scheme in _OTHER_SCHEMES and body:
            return None
        if kind == "idpat":
            problem = _pattern_problem(scheme, body, prefix)
            if problem is None:
                return None
            raise InvalidDocument(problem)
        raise InvalidDocument(f"unknown EPC scheme {scheme!r} for urn:epc:{kind}")
    if kind == "idpat":
        problem = _pattern_problem(scheme, body, prefix)
        if problem is None:
            return None  # a valid pattern wider than one class
        raise InvalidDocument(problem)
    raise InvalidDocument(_diagnose(syntax, body, prefix))


# ---- GS1 key path → EPC URI (TDS §7, read backwards) ---------------------------------------
def _esc(value: str) -> str:
    return value.translate(_URN_ESCAPES)


def _numeric(v: str, cp_len: int, end: int, start: int = 0) -> tuple[str, str]:
    """Company prefix and the rest of the numeric key ``v[start:end]``."""
    return v[start : start + cp_len], v[start + cp_len : end]


def _text_key(v: str, cp_len: int, title: str) -> tuple[str, str]:
    """Company prefix and the free text after it (GIAI, GINC, CPID)."""
    cp, ref = v[:cp_len], v[cp_len:]
    if not is_ascii_digits(cp) or not ref:
        raise InvalidDocument(
            f"the {title} {v!r} does not start with a {cp_len}-digit GS1 Company Prefix "
            "followed by a reference"
        )
    return cp, ref


def _gtin_parts(gtin: str, cp_len: int) -> str:
    cp, ref = _numeric(gtin, cp_len, 13, start=1)
    return f"{cp}.{gtin[0]}{ref}"


def _from_01(v: str, q: Mapping[str, str], n: int) -> str:
    body = _gtin_parts(v, n)
    if "21" in q:
        return f"urn:epc:id:sgtin:{body}.{_esc(q['21'])}"
    if "10" in q:
        return f"urn:epc:class:lgtin:{body}.{_esc(q['10'])}"
    if "235" in q:
        return f"urn:epc:id:upui:{body}.{_esc(q['235'])}"
    return f"urn:epc:idpat:sgtin:{body}.*"


def _from_8006(v: str, q: Mapping[str, str], n: int) -> str:
    body = f"{_gtin_parts(v, n)}.{v[14:16]}.{v[16:18]}"
    if "21" in q:
        return f"urn:epc:id:itip:{body}.{_esc(q['21'])}"
    if "10" in q:
        raise InvalidDocument("an ITIP with a lot (AI 8006 + 10) has no EPC URI")
    return f"urn:epc:idpat:itip:{body}.*"


def _serialised(scheme: str, cp_ref: str, serial: str) -> str:
    if serial:
        return f"urn:epc:id:{scheme}:{cp_ref}.{_esc(serial)}"
    return f"urn:epc:idpat:{scheme}:{cp_ref}.*"


def _from_8010(v: str, q: Mapping[str, str], n: int) -> str:
    cp, ref = _text_key(v, n, "CPID")
    cp_ref = f"{cp}.{ref.translate(_CPREF_ESCAPES)}"
    if "8011" in q:
        return f"urn:epc:id:cpi:{cp_ref}.{q['8011']}"
    return f"urn:epc:idpat:cpi:{cp_ref}.*"


def _dotted(v: str, n: int, end: int, start: int = 0) -> str:
    return ".".join(_numeric(v, n, end, start))


def _from_text_key(scheme: str, title: str) -> Callable[[str, Mapping[str, str], int], str]:
    def convert(v: str, q: Mapping[str, str], n: int) -> str:
        cp, ref = _text_key(v, n, title)
        return f"urn:epc:id:{scheme}:{cp}.{_esc(ref)}"

    return convert


_FROM_KEY: Mapping[str, Callable[[str, Mapping[str, str], int], str]] = {
    "00": lambda v, q, n: f"urn:epc:id:sscc:{v[1 : 1 + n]}.{v[0]}{v[1 + n : 17]}",
    "01": _from_01,
    "253": lambda v, q, n: _serialised("gdti", _dotted(v, n, 12), v[13:]),
    "255": lambda v, q, n: _serialised("sgcn", _dotted(v, n, 12), v[13:]),
    "401": _from_text_key("ginc", "GINC"),
    "402": lambda v, q, n: f"urn:epc:id:gsin:{_dotted(v, n, 16)}",
    "414": lambda v, q, n: f"urn:epc:id:sgln:{_dotted(v, n, 12)}.{_esc(q.get('254', '0'))}",
    "417": lambda v, q, n: f"urn:epc:id:pgln:{_dotted(v, n, 12)}",
    "8003": lambda v, q, n: _serialised("grai", _dotted(v, n, 13, start=1), v[14:]),
    "8004": _from_text_key("giai", "GIAI"),
    "8006": _from_8006,
    "8010": _from_8010,
    "8017": lambda v, q, n: f"urn:epc:id:gsrnp:{_dotted(v, n, 17)}",
    "8018": lambda v, q, n: f"urn:epc:id:gsrn:{_dotted(v, n, 17)}",
}


def format_epc_uri(elements: Elements, company_prefix_length: int) -> str:
    """The EPC URI of a well-formed GS1 key path, splitting the company prefix at the given
    length (TDS §7). A key without its serial gives the pattern or class URI of its class
    (``01`` alone → ``urn:epc:idpat:sgtin:<cp>.<ir>.*``, ``01`` + ``10`` → LGTIN).

    Raises:
        InvalidDocument: if the length is not 6 to 12 or does not fit the key, or the key path
            has no EPC URI (ITIP with a lot, or a key outside TDS).
    """
    if not 6 <= company_prefix_length <= 12:
        raise InvalidDocument(
            f"a GS1 Company Prefix has 6 to 12 digits, got length {company_prefix_length}"
        )
    key_ai, value = elements[0]
    convert = _FROM_KEY.get(key_ai)
    if convert is None:
        raise InvalidDocument(f"AI {key_ai} has no EPC URI")
    return convert(value, dict(elements[1:]), company_prefix_length)
