"""The canonical zip container: standard, and every byte of it checked."""

from __future__ import annotations

import io
import zipfile

import pytest

from dosetrail.certify._zip import read_zip, write_zip
from dosetrail.errors import IntegrityError

MEMBERS = [("a.json", b'{"x": 1}\n' * 40), ("dir/b.txt", b"plain"), ("empty", b"")]


def test_round_trip_and_standard_readers() -> None:
    data = write_zip(MEMBERS)
    assert read_zip(data) == dict(MEMBERS)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        assert {n: z.read(n) for n in z.namelist()} == dict(MEMBERS)
    assert write_zip(MEMBERS) == data  # deterministic


def test_every_single_byte_change_is_detected() -> None:
    data = write_zip(MEMBERS)
    for pos in range(len(data)):
        for delta in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[pos] ^= delta
            with pytest.raises(IntegrityError):
                read_zip(bytes(bad))


def test_appended_or_truncated_bytes_are_detected() -> None:
    data = write_zip(MEMBERS)
    for bad in (data + b"\0", data[:-1], b"junk" + data, data[:10]):
        with pytest.raises(IntegrityError):
            read_zip(bad)
