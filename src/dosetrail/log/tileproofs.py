"""RFC 9162 §2.1.3.1 / §2.1.4.1 proofs sliced straight out of tile trees (LogReader's fast path).

Why a second generator next to :mod:`dosetrail.log.merkle`: the generic one asks a
:data:`~dosetrail.log.merkle.NodeReader` for every node, which from tiles costs a Python call, a
cache lookup and a tile-width check per hash (~40 µs a proof at 10^7 leaves). Unrolling the RFC's
recursion shows that a proof has a fixed shape that tiles serve by slicing alone:

* **Inclusion** of leaf ``i`` in the tree of ``n`` leaves. Let ``b = bitlen(i XOR n) - 1``: leaf
  ``i`` lies in the complete subtree of ``2**b`` leaves that bit ``b`` of ``n`` contributes to the
  tree (RFC 9162 §2.1.1 splits ``n`` into complete subtrees, one per set bit, largest first).
  ``PATH(i, D[n])`` is the sibling of each of ``i``'s ancestors at levels ``0 … b-1`` (all
  complete), followed by a *tail* that depends on ``(n, b)`` only: ``MTH`` of the leaves right of
  that subtree, if any, then the roots of the complete subtrees left of it, nearest first.
* **Consistency** from ``m`` to ``n`` (``0 < m < n``). With ``t`` = the number of trailing zero
  bits of ``m``, node ``(t, (m-1) >> t)`` is the last complete subtree of the old tree;
  ``PROOF(m, D[n])`` is that node (left out when ``m`` is a power of two, the verifier already
  holding it as the old root), then the siblings of leaf ``m-1``'s ancestors at levels
  ``t … b-1`` and the tail of ``(n, b)``, with ``b = bitlen((m-1) XOR n) - 1``.

The siblings at the 8 levels of one tile level differ from the leaf's ancestors in their lowest
bit only, so they lie in one tile: a proof reads one tile per tile level (3 at 10^7 leaves) and
takes its hashes at precomputed offsets. The tail is computed once per ``(n, b)`` through the
generic code and cached — the tree of a given size never changes. ``tests/log/test_tileproofs.py``
checks these generators against the generic ones and the independent reference for random sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from operator import itemgetter

from dosetrail.log.merkle import subtree_hash
from dosetrail.log.tiles import ROW_OFFSET, TILE_WIDTH, TileCache, TileFetcher, TileHashes

__all__ = ["TileProver"]

_H = 32
_Getter = Callable[[bytes], tuple[bytes, ...]]


def _make_getter(offsets: list[int]) -> _Getter:
    """One C-level call that slices the 32-byte hashes at ``offsets`` out of a tile tree."""
    if len(offsets) == 1:
        o = offsets[0]
        return lambda tree: (tree[o : o + _H],)
    return itemgetter(*(slice(o, o + _H) for o in offsets))


@lru_cache(maxsize=8192)
def _siblings_getter(width: int, p: int, first: int, end: int) -> _Getter:
    """Slices the siblings, in rows ``first … end-1`` of a tile tree of ``width`` hashes, of the
    ancestors of the hash at position ``p``; every one must be a complete node."""
    offs = ROW_OFFSET[width]
    out = []
    for row in range(first, end):
        sibling = (p >> row) ^ 1
        if (sibling + 1) << row > width:
            raise ValueError(f"position {p} of a tile of {width} has no complete sibling at {row}")
        out.append(offs[row] + sibling * _H)
    return _make_getter(out)


# The common case, every row of a full tile, without the lru_cache call.
_FULL_SIBLINGS = tuple(_siblings_getter(TILE_WIDTH, p, 0, 8) for p in range(TILE_WIDTH))


class TileProver:
    """Inclusion and consistency proofs from tile trees fetched through ``fetch``.

    ``cache`` holds tile trees (shared with other readers of the same tiles); tails are kept in a
    small dictionary of their own, cleared when it reaches ``max_tails`` entries. Thread-safe in
    the sense a server needs: concurrent calls at worst fetch a tile twice.
    """

    def __init__(self, fetch: TileFetcher, cache: TileCache, max_tails: int = 1024) -> None:
        self._fetch = fetch
        self._cache = cache
        self._tails: dict[tuple[int, int], tuple[bytes, ...]] = {}
        self._max_tails = max_tails

    def clear(self) -> None:
        """Forget cached tails (the tile cache is the caller's to clear)."""
        self._tails.clear()

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 ``PATH(index, D[0:size])``, leaf-side hash first."""
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is not in a tree of size {size}")
        b = (index ^ size).bit_length() - 1
        out = self._path(index, 0, b, size, False)
        out += self._tail(size, b)
        return out

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 ``PROOF(old_size, D[0:new_size])``; empty if a size is 0 or equal."""
        if not 0 <= old_size <= new_size:
            raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
        if old_size in (0, new_size):
            return []
        last = old_size - 1
        t = (old_size & -old_size).bit_length() - 1
        b = (last ^ new_size).bit_length() - 1
        # Unless old_size is a power of two, the verifier needs the old tree's last subtree too.
        out = self._path(last, t, b, new_size, bool(old_size & last))
        out += self._tail(new_size, b)
        return out

    def _path(self, leaf: int, lo: int, hi: int, size: int, with_node: bool) -> list[bytes]:
        """Siblings of ``leaf``'s ancestors at levels ``lo … hi-1`` (complete in tree ``size``),
        preceded by the ancestor at ``lo`` itself if ``with_node``."""
        # The hot loop of every proof: one tile per tile level, no calls on a cache hit.
        lookup = self._cache.lookup
        out: list[bytes] = []
        if with_node:
            shift = lo & ~7
            pos = leaf >> shift
            width, tree = self._tile(shift >> 3, pos >> 8, size)
            row = lo - shift
            o = ROW_OFFSET[width][row] + ((pos & 0xFF) >> row) * _H
            out.append(tree[o : o + _H])
        level = lo
        while level < hi:
            shift = level & ~7  # the first level of this tile level
            pos = leaf >> shift
            index = pos >> 8
            hit = lookup((shift >> 3, index))
            if hit is None or (hit[0] != TILE_WIDTH and hit[0] < (size >> shift) - (index << 8)):
                hit = self._tile(shift >> 3, index, size)
            width, tree = hit
            end = hi - shift
            if width == TILE_WIDTH and level == shift and end >= 8:
                out += _FULL_SIBLINGS[pos & 0xFF](tree)
            else:
                out += _siblings_getter(width, pos & 0xFF, level - shift, min(end, 8))(tree)
            level = shift + 8
        return out

    def _tile(self, level: int, index: int, size: int) -> tuple[int, bytes]:
        """Tile ``(level, index)`` with at least the hashes it has in tree ``size``."""
        need = min(TILE_WIDTH, (size >> (level << 3)) - (index << 8))
        key = (level, index)
        hit = self._cache.get(key, need)
        if hit is None:
            hit = self._fetch(level, index, need)
            self._cache.put(key, hit)
        return hit

    def _tail(self, size: int, b: int) -> tuple[bytes, ...]:
        """``MTH`` right of the complete subtree at bit ``b`` of ``size``, then the roots left."""
        key = (size, b)
        tail = self._tails.get(key)
        if tail is None:
            node = TileHashes(self._fetch, size, self._cache)
            parts = []
            start = size >> b << b
            if start != size:
                parts.append(subtree_hash(start, size, node))
            for c in range(b + 1, size.bit_length()):
                if size >> c & 1:
                    parts.append(node(c, (size >> c) - 1))
            tail = tuple(parts)
            if len(self._tails) >= self._max_tails:
                self._tails.clear()
            self._tails[key] = tail
        return tail
