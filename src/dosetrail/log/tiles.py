"""C2SP ``tlog-tiles``: tile paths, tile contents, entry bundles and a tile-backed hash reader.

A tile at level ``L``, index ``N`` holds up to 256 consecutive Merkle Tree Hashes of subtrees of
``256**L`` leaves (RFC 9162 §2.1 ``MTH``); it is the bottom row of a subtree of height 8. Paths
are ``tile/<L>/<N>[.p/<W>]`` and ``tile/entries/<N>[.p/<W>]`` with ``N`` in zero-padded 3-digit
path elements, all but the last prefixed with ``x`` (``1234067`` → ``x001/x234/067``). Entry
bundles are entries each preceded by a big-endian 2-byte length.

Internally a tile is kept as its *tile tree*: the rows of the height-8 subtree, bottom row first,
each row holding only complete nodes (``width >> row`` hashes). :class:`TileHashes` answers
``node(level, index)`` from tile trees fetched through any :data:`TileFetcher` (database rows,
a directory, later HTTP), keeping recently used tiles in a bounded :class:`TileCache`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from dosetrail.errors import IntegrityError, MalformedInput, NotFound

__all__ = [
    "MAX_ENTRY_SIZE",
    "ROW_OFFSET",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileCache",
    "TileFetcher",
    "TileHashes",
    "TileSource",
    "bundle_path",
    "decode_bundle",
    "encode_bundle",
    "source_fetcher",
    "tile_path",
    "tile_root",
    "tile_tree",
    "tile_width",
    "tiles_at_level",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY_SIZE = 0xFFFF
_H = 32
_sha256 = hashlib.sha256
_NODE_PREFIX = _sha256(b"\x01")

ROW_OFFSET: list[list[int]] = []
"""``ROW_OFFSET[width][row]``: byte offset of row ``row`` in the tile tree of ``width`` hashes."""
for _w in range(TILE_WIDTH + 1):
    _offs, _acc = [], 0
    for _row in range(TILE_HEIGHT + 1):
        _offs.append(_acc)
        _acc += (_w >> _row) * _H
    ROW_OFFSET.append(_offs)


def _index_path(index: int) -> str:
    digits = f"{index:03d}"
    if len(digits) % 3:
        digits = "0" * (3 - len(digits) % 3) + digits
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + p for p in parts[:-1]), parts[-1]])


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` (C2SP tlog-tiles)."""
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{_index_path(index)}{suffix}"


def bundle_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]`` (C2SP tlog-tiles)."""
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/entries/{_index_path(index)}{suffix}"


def tile_width(size: int, level: int, index: int) -> int:
    """How many hashes tile ``(level, index)`` holds in a tree of ``size`` leaves (0 if none)."""
    count = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


def tiles_at_level(size: int, level: int, start: int = 0) -> Iterator[tuple[int, int]]:
    """``(index, width)`` of the tiles of ``level`` in a tree of ``size``, from tile ``start``."""
    count = size >> (TILE_HEIGHT * level)
    for index in range(start, -(-count // TILE_WIDTH)):
        yield index, min(TILE_WIDTH, count - index * TILE_WIDTH)


def tile_tree(row0: bytes) -> bytes:
    """All complete rows of the height-8 subtree over ``row0`` (a tile's hashes), bottom first.

    Interior nodes are RFC 9162 §2.1.1 ``SHA-256(0x01 ‖ left ‖ right)``, hashed by copying a state
    that has taken the prefix (~10% faster in CPython than concatenating it to each pair).
    """
    rows = [row0]
    cur = row0
    prefix = _NODE_PREFIX
    for _ in range(TILE_HEIGHT):
        n = len(cur) // (2 * _H)
        if n == 0:
            break
        out: list[bytes] = []
        append = out.append
        for i in range(0, n * 64, 64):
            h = prefix.copy()
            h.update(cur[i : i + 64])
            append(h.digest())
        cur = b"".join(out)
        rows.append(cur)
    return b"".join(rows)


def tile_root(tree: bytes) -> bytes:
    """The hash a full tile contributes to the level above: the top of its tile tree."""
    if len(tree) != ROW_OFFSET[TILE_WIDTH][TILE_HEIGHT] + _H:
        raise ValueError("only a full tile has a root in the level above")
    return tree[-_H:]


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry preceded by its big-endian 2-byte length."""
    out = []
    for e in entries:
        if len(e) > MAX_ENTRY_SIZE:
            raise MalformedInput(f"log entry of {len(e)} bytes exceeds {MAX_ENTRY_SIZE}")
        out.append(len(e).to_bytes(2, "big"))
        out.append(e)
    return b"".join(out)


def decode_bundle(data: bytes, path: str, first_index: int) -> list[bytes]:
    """Split an entry bundle; a truncated one is an :class:`IntegrityError` naming the entry."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise IntegrityError(
                f"{path} is truncated inside the length of entry {first_index + len(entries)}"
            )
        n = int.from_bytes(data[pos : pos + 2], "big")
        if pos + 2 + n > len(data):
            raise IntegrityError(f"{path} is truncated inside entry {first_index + len(entries)}")
        entries.append(data[pos + 2 : pos + 2 + n])
        pos += 2 + n
    return entries


class TileSource(Protocol):
    """Read-only access to a C2SP tiles tree by path (a directory, later HTTP)."""

    def read(self, path: str) -> bytes:
        """The bytes at ``path``; :class:`~dosetrail.errors.NotFound` when absent."""
        ...


TileFetcher = Callable[[int, int, int], tuple[int, bytes]]
"""``fetch(level, index, width)`` → ``(stored width >= width, tile tree)``."""


def source_fetcher(source: TileSource) -> TileFetcher:
    """Fetch tiles from a :class:`TileSource`, checking each tile's length."""

    def fetch(level: int, index: int, width: int) -> tuple[int, bytes]:
        path = tile_path(level, index, width)
        try:
            row0 = source.read(path)
        except NotFound as e:
            raise IntegrityError(f"{path} is missing") from e
        if len(row0) != width * _H:
            raise IntegrityError(
                f"{path} is {len(row0)} bytes, expected {width * _H} (truncated or padded)"
            )
        return width, tile_tree(row0)

    return fetch


class TileCache:
    """A bounded cache of tile trees keyed by ``(level, index)``, evicting the oldest first.

    With ``doorkeeper``, a full cache admits a tile only on its second miss within the last
    ``4 * max_tiles`` misses (the admission filter of TinyLFU): when a tree has far more tiles
    than fit, as level 0 of a large log under random queries does, storing each one read once
    would cost an allocation and an eviction per query for a hit rate of ``max_tiles / tiles``,
    and would push out the hot right-edge and upper tiles; tiles queried again still get in.

    Safe to share between threads (a server's request threads share one reader): lookups are
    single dictionary reads, and insertion with eviction is serialised by a lock.
    """

    def __init__(self, max_tiles: int = 4096, *, doorkeeper: bool = False) -> None:
        self.max_tiles = max_tiles
        # An OrderedDict: evicting a plain dict's first key rescans every slot deleted before it.
        self._tiles: OrderedDict[tuple[int, int], tuple[int, bytes]] = OrderedDict()
        self._seen: set[tuple[int, int]] | None = set() if doorkeeper else None
        self._lock = threading.Lock()
        self.lookup = self._tiles.get
        """``lookup(key)``: the cached ``(width, tree)`` whatever its width (for hot loops)."""

    def get(self, key: tuple[int, int], width: int) -> tuple[int, bytes] | None:
        hit = self._tiles.get(key)
        return None if hit is None or hit[0] < width else hit

    def put(self, key: tuple[int, int], value: tuple[int, bytes]) -> None:
        tiles, seen = self._tiles, self._seen
        with self._lock:
            if seen is not None and len(tiles) >= self.max_tiles and key not in tiles:
                if key not in seen:
                    if len(seen) >= 4 * self.max_tiles:
                        seen.clear()
                    seen.add(key)
                    return
                seen.discard(key)
            tiles.pop(key, None)
            tiles[key] = value
            while len(tiles) > self.max_tiles:
                tiles.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
            if self._seen is not None:
                self._seen.clear()


class TileHashes:
    """``node(level, index)`` for a tree of ``size`` leaves, read from tiles (a NodeReader)."""

    def __init__(self, fetch: TileFetcher, size: int, cache: TileCache | None = None) -> None:
        self._fetch = fetch
        self.size = size
        self._cache = cache if cache is not None else TileCache(64)

    def node(self, level: int, index: int) -> bytes:
        tl, row = level >> 3, level & 7
        pos = index << row
        t = pos >> 8
        key = (tl, t)
        need = tile_width(self.size, tl, t)
        if ((pos & 0xFF) + (1 << row)) > need:
            raise ValueError(f"node ({level}, {index}) is not complete in a tree of {self.size}")
        hit = self._cache.get(key, need)
        if hit is None:
            hit = self._fetch(tl, t, need)
            self._cache.put(key, hit)
        width, tree = hit
        off = ROW_OFFSET[width][row] + ((pos & 0xFF) >> row) * _H
        return tree[off : off + _H]

    __call__ = node
