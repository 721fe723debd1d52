"""A canonical ZIP container: any zip tool reads it, and every byte of it is accounted for.

The writer lays members out in the given order with fixed metadata (no timestamps: 1980-01-01,
Unix mode 0644, UTF-8 names, no extra fields or comments), each member deflated (raw DEFLATE,
level 9) or stored when that is not smaller. The reader parses the central directory, reads each
member's raw bytes, inflates and checks CRC-32 and sizes, then rebuilds the container around
those same raw bytes and requires it to be byte-identical to the file: a change in any header,
length, name, offset or gap is found even where ordinary zip readers would not look (the
member contents are then covered by the manifest's SHA-256 and the signatures).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from dosetrail.errors import IntegrityError

__all__ = ["RawMember", "read_zip", "write_zip"]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_VERSION = 20
_MADE_BY = (3 << 8) | _VERSION  # Unix, ZIP 2.0
_UTF8 = 0x0800
_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_MODE = 0o100644 << 16
STORED, DEFLATED = 0, 8
_MAX_MEMBERS = 100_000
_MAX_SIZE = 1 << 31


@dataclass(frozen=True, slots=True)
class RawMember:
    name: str
    method: int
    crc: int
    size: int
    raw: bytes  # as stored in the file (deflated or not)


def _compress(name: str, data: bytes) -> RawMember:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = c.compress(data) + c.flush()
    crc = zlib.crc32(data)
    if len(raw) < len(data):
        return RawMember(name, DEFLATED, crc, len(data), raw)
    return RawMember(name, STORED, crc, len(data), data)


def _assemble(members: Sequence[RawMember]) -> bytes:
    out = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode()
        offset = len(out)
        out += _LOCAL.pack(
            _LOCAL_SIG, _VERSION, _UTF8, m.method, 0, _DATE, m.crc, len(m.raw), m.size, len(name), 0
        )
        out += name + m.raw
        central += _CENTRAL.pack(
            _CENTRAL_SIG,
            _MADE_BY,
            _VERSION,
            _UTF8,
            m.method,
            0,
            _DATE,
            m.crc,
            len(m.raw),
            m.size,
            len(name),
            0,
            0,
            0,
            0,
            _MODE,
            offset,
        )
        central += name
    start = len(out)
    out += central
    out += _END.pack(_END_SIG, 0, 0, len(members), len(members), len(central), start, 0)
    return bytes(out)


def write_zip(members: Sequence[tuple[str, bytes]]) -> bytes:
    """The canonical container of ``(name, content)`` members, in that order."""
    names = [n for n, _ in members]
    if len(set(names)) != len(names):
        raise ValueError("duplicate member names")
    return _assemble([_compress(n, d) for n, d in members])


def read_zip(data: bytes) -> dict[str, bytes]:
    """Members of a canonical container, in order; :class:`IntegrityError` naming what is wrong."""
    if len(data) < _END.size:
        raise IntegrityError("bundle: too short to be a zip file")
    sig, disk, cd_disk, n_disk, n, cd_size, cd_start, comment = _END.unpack_from(
        data, len(data) - _END.size
    )
    if sig != _END_SIG or disk or cd_disk or n_disk != n or comment:
        raise IntegrityError("bundle: the zip end record is damaged (or the file has a comment)")
    if n > _MAX_MEMBERS or cd_start + cd_size != len(data) - _END.size:
        raise IntegrityError("bundle: the zip central directory is not where the end record says")
    members: list[RawMember] = []
    pos = cd_start
    for i in range(n):
        if pos + _CENTRAL.size > cd_start + cd_size:
            raise IntegrityError(f"bundle: zip central directory entry {i} is truncated")
        fields = _CENTRAL.unpack_from(data, pos)
        if fields[0] != _CENTRAL_SIG:
            raise IntegrityError(f"bundle: zip central directory entry {i} is damaged")
        method, crc, csize, usize, name_len, offset = (
            fields[4],
            fields[7],
            fields[8],
            fields[9],
            fields[10],
            fields[16],
        )
        name_bytes = data[pos + _CENTRAL.size : pos + _CENTRAL.size + name_len]
        pos += _CENTRAL.size + name_len + fields[11] + fields[12]
        try:
            name = name_bytes.decode()
        except UnicodeDecodeError as e:
            raise IntegrityError(f"bundle: zip member {i} has a name that is not UTF-8") from e
        start = offset + _LOCAL.size + name_len
        if start + csize > cd_start or usize > _MAX_SIZE:
            raise IntegrityError(f"bundle: zip member {name!r} lies outside the file")
        raw = data[start : start + csize]
        members.append(RawMember(name, method, crc, usize, raw))
    contents: dict[str, bytes] = {}
    for m in members:
        contents[m.name] = _inflate(m)
    if len(contents) != len(members):
        raise IntegrityError("bundle: two zip members have the same name")
    canonical = _assemble(members)
    if canonical != data:
        at = next(
            (i for i, (a, b) in enumerate(zip(canonical, data, strict=False)) if a != b),
            min(len(canonical), len(data)),
        )
        raise IntegrityError(f"bundle: zip structure is not canonical (byte {at} differs)")
    return contents


def _inflate_raw(raw: bytes, size: int) -> bytes | None:
    d = zlib.decompressobj(-15)
    try:
        content = d.decompress(raw, size + 1)
    except zlib.error:
        return None
    if not d.eof or d.unconsumed_tail or d.unused_data:
        return None
    return content


def _zero_padding(raw: bytes, content: bytes, size: int) -> bool:
    """The bits after the end of the deflate stream (high bits of its last byte) are zero.

    Inflating ignores them, so a change there would otherwise go unnoticed: find the fewest
    low bits of the last byte that still inflate to the same content, and require the rest 0.
    """
    if not raw:
        return False
    last = raw[-1]
    for used in range(9):
        candidate = raw[:-1] + bytes([last & ((1 << used) - 1)])
        if _inflate_raw(candidate, size) == content:
            return candidate == raw
    return False


def _inflate(m: RawMember) -> bytes:
    if m.method == STORED:
        content = m.raw
    elif m.method == DEFLATED:
        inflated = _inflate_raw(m.raw, m.size)
        if inflated is None:
            raise IntegrityError(f"bundle: zip member {m.name!r} has a damaged deflate stream")
        content = inflated
        if not _zero_padding(m.raw, content, m.size):
            raise IntegrityError(f"bundle: zip member {m.name!r} has stray bits after its data")
    else:
        raise IntegrityError(f"bundle: zip member {m.name!r} uses compression method {m.method}")
    if len(content) != m.size:
        raise IntegrityError(f"bundle: zip member {m.name!r} is not {m.size} bytes long")
    if zlib.crc32(content) != m.crc:
        raise IntegrityError(f"bundle: zip member {m.name!r} fails its CRC-32 check")
    return content
