"""In-memory trees for tests: all complete-subtree hashes of a list of entries, level by level."""

from __future__ import annotations

import hashlib
from functools import lru_cache


def entries(n: int) -> list[bytes]:
    return [b"entry %d" % i for i in range(n)]


@lru_cache(maxsize=8)
def levels(n: int) -> tuple[tuple[bytes, ...], ...]:
    """``levels(n)[l][i]`` = hash of the complete subtree of ``2**l`` leaves at index ``i``."""
    row = [hashlib.sha256(b"\x00" + e).digest() for e in entries(n)]
    out = [tuple(row)]
    while len(row) > 1:
        row = [
            hashlib.sha256(b"\x01" + row[i] + row[i + 1]).digest()
            for i in range(0, len(row) - 1, 2)
        ]
        out.append(tuple(row))
    return tuple(out)


def node_reader(n: int):  # type: ignore[no-untyped-def]
    lv = levels(n)
    return lambda level, index: lv[level][index]
