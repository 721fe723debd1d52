"""RFC 8785 (JSON Canonicalization Scheme) bytes for log entries, certificates and manifests.

Log entries are small objects of ASCII strings and integers; for those, orjson with sorted keys
writes exactly the JCS bytes (RFC 8785 §3.2: no whitespace, keys sorted by code unit, integers
as ECMAScript writes them, strings with the minimal JSON escapes) and is an order of magnitude
faster. Anything else — non-ASCII text, floats, nested values — goes through the ``rfc8785``
library. A property test checks the two agree on the fast path's domain.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

__all__ = ["dumps"]

_SAFE_INT = 2**53 - 1


def _simple(value: Any) -> bool:
    if isinstance(value, str):
        return value.isascii() and value.isprintable()
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -_SAFE_INT <= value <= _SAFE_INT
    if isinstance(value, dict):
        return all(_simple(k) and _simple(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_simple(v) for v in value)
    return False


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical JSON encoding of ``value``."""
    if _simple(value):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return rfc8785.dumps(value)
