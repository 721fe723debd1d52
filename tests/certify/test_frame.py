"""The frame file: canonical, sorted, totals that match (docs/certification.md, "Frame")."""

from __future__ import annotations

import pytest

from dosetrail.certify.design import Design
from dosetrail.certify.frame import Frame, Unit
from dosetrail.errors import IntegrityError


def _frame() -> Frame:
    units = [
        Unit("session", "KP-02", 10, 300),
        Unit("session", "KP-01", 12, 120),
        Unit("stock", "KP-01", 14, 50),
        Unit("session", "KP-01", 11, 0),  # weight 0: never drawn, dropped
    ]
    return Frame.build("dtvax", "2025", 20, Design(), units)


def test_round_trip() -> None:
    frame = _frame()
    data = frame.encode()
    again = Frame.decode(data)
    assert again == frame
    assert again.encode() == data
    assert [u.log_index for u in frame.units] == [12, 10, 14]
    assert frame.weight("session") == 420
    assert [s.id for s in frame.strata["session"]] == ["KP-01", "KP-02"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d.replace(b'["session","KP-01",12,120]', b'["session","KP-01",12,121]'),
            "header",
        ),
        (
            lambda d: d.replace(b'["session","KP-01",12,120]', b'["session","KP-01",12, 120]'),
            "canonical",
        ),
        (lambda d: d.replace(b'"logSize":20', b'"logSize":13'), "not below"),
        (lambda d: d.replace(b'"programme":"dtvax"', b'"programme":"dt vax"'), "programme"),
        (lambda d: d[:-1], "newline"),
        (lambda d: d.replace(b"{", b"{ ", 1), "canonical"),
    ],
)
def test_strict_decoding(edit: object, message: str) -> None:
    data = _frame().encode()
    bad = edit(data)  # type: ignore[operator]
    with pytest.raises(IntegrityError, match=message):
        Frame.decode(bad)


def test_units_must_be_sorted_and_unique() -> None:
    data = _frame().encode()
    lines = data.split(b"\n")
    lines[1], lines[2] = lines[2], lines[1]
    with pytest.raises(IntegrityError, match="sorted"):
        Frame.decode(b"\n".join(lines))
    with pytest.raises(ValueError, match="more than one unit"):
        Frame.build("p", "q", 9, Design(), [Unit("session", "A", 1, 5), Unit("session", "B", 1, 5)])
