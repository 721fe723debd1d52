"""Each indicator on a tiny hand-built stream, captured through the real ``Ledger.capture``.

Runs on SQLite and PostgreSQL (the ``home`` fixture of tests/store): the SQL-side aggregates
(containment, clones, double packing) must agree on both.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from dosetrail.analysis import Findings, analyze
from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.epcis.timestamps import parse_time, to_micros
from dosetrail.store.ledger import Ledger
from tests.analysis import stream as s


def _when(text: str) -> int:
    stamp: datetime = parse_time(text)[0]
    return to_micros(stamp)


def capture(
    ledger: Ledger,
    party: str,
    events: list[dict[str, object]],
    *,
    day: int,
    prefix: str = "dt",
    late_days: int = 0,
) -> None:
    received = _when(s.at(day, 20)) + late_days * 86_400_000_000
    ledger.capture(s.document(events, prefix), party, name=f"{party}-{day}", received=received)


def supply(ledger: Ledger, vials: int = 50, ship_to_clinic: bool = True) -> list[str]:
    """Donor → store (case) → clinic A; returns the vial EPCs."""
    epcs = [s.vial(i) for i in range(vials)]
    capture(
        ledger,
        "donor",
        [
            s.commission(s.at(1, 8), [s.case(1), *epcs]),
            s.pack(s.at(1, 8, 1), s.case(1), epcs),
            s.ship(
                s.at(1, 9),
                [s.case(1)],
                "urn:epcglobal:cbv:bt:9521000000018:D1",
                s.DONOR_SITE,
                s.STORE,
            ),
        ],
        day=1,
    )
    store = [
        s.receive(
            s.at(2, 9), [s.case(1)], "urn:epcglobal:cbv:bt:9521000000018:D1", s.DONOR_SITE, s.STORE
        )
    ]
    if ship_to_clinic:
        store.append(
            s.ship(
                s.at(2, 10), [s.case(1)], "urn:epcglobal:cbv:bt:9524000000018:D2", s.STORE, s.CLINIC
            )
        )
    capture(ledger, "store", store, day=2)
    if ship_to_clinic:
        capture(
            ledger,
            "clinic",
            [
                s.receive(
                    s.at(3, 9),
                    [s.case(1)],
                    "urn:epcglobal:cbv:bt:9524000000018:D2",
                    s.STORE,
                    s.CLINIC,
                ),
                s.unpack(s.at(3, 9, 5), s.case(1), s.CLINIC),
            ],
            day=3,
        )
    return epcs


def kinds(found: Findings) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in found.findings:
        out.setdefault(f.kind, []).append(f.locations[0] if f.locations else "")
    return out


def test_honest_stream_has_no_findings(ledger: Ledger) -> None:
    epcs = supply(ledger)
    sessions = [
        s.session(s.at(4, 9), s.at(4, 15), epcs[:3], s.CLINIC, 1, [7, 8, 6, 4]),
        s.session(s.at(5, 9), s.at(5, 15), epcs[3:6], s.CLINIC, 2, [9, 4, 8, 5]),
    ]
    capture(
        ledger,
        "clinic",
        [
            *sessions,
            s.sensor(s.CLINIC, 4, [4.5, 4.7, 4.6, 4.4] * 12),
            s.count(s.at(6, 17), s.CLINIC, 44),
        ],
        day=6,
    )
    assert kinds(analyze(ledger, store=False)) == {}


def test_stock_gap_names_the_site_and_count(ledger: Ledger) -> None:
    epcs = supply(ledger)
    capture(
        ledger,
        "clinic",
        [
            s.session(s.at(4, 9), s.at(4, 15), epcs[:2], s.CLINIC, 1, [5, 5, 5, 3]),
            s.count(s.at(6, 17), s.CLINIC, 40),  # books say 48
        ],
        day=6,
    )
    found = analyze(ledger, store=False)
    gaps = found.of_kind("stock_gap")
    assert [g.locations for g in gaps] == [(normalise_epc(s.CLINIC),)]
    assert gaps[0].metrics["gapDoses"] == 80
    assert gaps[0].events
    assert len(gaps[0].events) == len(gaps[0].log_indices)


def test_clone_is_the_use_where_the_vial_never_arrived(ledger: Ledger) -> None:
    epcs = supply(ledger)
    capture(
        ledger,
        "clinic",
        [
            s.session(s.at(4, 9), s.at(4, 15), epcs[:2], s.CLINIC, 1, [5, 5, 5, 3]),
        ],
        day=4,
    )
    capture(
        ledger,
        "clinic-b",
        [
            s.session(s.at(4, 8), s.at(4, 12), epcs[:2], s.CLINIC_B, 2, [5, 5, 5, 3]),
        ],
        day=4,
    )
    clones = analyze(ledger, store=False).of_kind("clone")
    assert len(clones) == 1
    assert clones[0].locations[0] == normalise_epc(s.CLINIC_B)
    assert set(clones[0].epcs) == {normalise_epc(e) for e in epcs[:2]}
    assert len(clones[0].events) == 2


@pytest.mark.parametrize(("hours", "alarm"), [(9.5, False), (10.5, True)])
def test_heat_alarm_needs_ten_continuous_hours_above_8(
    ledger: Ledger, hours: float, alarm: bool
) -> None:
    supply(ledger)
    hot = int(hours * 2)
    values = [4.5] * 6 + [12.0] * hot + [4.5] * (48 - 6 - hot)
    capture(ledger, "clinic", [s.sensor(s.CLINIC, 4, values)], day=4)
    found = kinds(analyze(ledger, store=False))
    assert ("heat_alarm" in found) is alarm


def test_heat_interrupted_is_no_alarm(ledger: Ledger) -> None:
    """WHO 30-DTR heat alarm is a single event: 2 × 6 h with a cool reading between is none."""
    supply(ledger)
    values = [4.5] * 4 + [12.0] * 12 + [7.5] + [12.0] * 12 + [4.5] * 19
    capture(ledger, "clinic", [s.sensor(s.CLINIC, 4, values)], day=4)
    assert "heat_alarm" not in kinds(analyze(ledger, store=False))


def test_freeze_alarm_after_an_hour_at_or_below_minus_half(ledger: Ledger) -> None:
    supply(ledger)
    values = [4.5] * 10 + [-0.5, -1.0, -0.7] + [4.5] * 35
    capture(ledger, "clinic", [s.sensor(s.CLINIC, 4, values)], day=4)
    assert "freeze_alarm" in kinds(analyze(ledger, store=False))


def test_logger_gap_while_holding_stock_and_exposed_sessions(ledger: Ledger) -> None:
    epcs = supply(ledger)
    day4 = s.sensor(s.CLINIC, 4, [4.5] * 20)  # 00:00-09:30, then nothing until tomorrow
    day5 = s.sensor(s.CLINIC, 5, [4.5] * 48)
    capture(
        ledger,
        "clinic",
        [day4, day5, s.session(s.at(5, 9), s.at(5, 15), epcs[:2], s.CLINIC, 1, [5, 5, 5, 3])],
        day=5,
    )
    found = analyze(ledger, store=False)
    assert [f.locations[0] for f in found.of_kind("logger_gap")] == [normalise_epc(s.CLINIC)]
    exposed = found.of_kind("exposed_doses")
    assert exposed
    assert exposed[0].metrics["sessions"] == 1


def test_shipment_receipt_contradictions(ledger: Ledger) -> None:
    supply(ledger, ship_to_clinic=False)
    capture(
        ledger,
        "clinic-b",
        [
            s.receive(
                s.at(3, 9),
                [s.vial(60)],
                "urn:epcglobal:cbv:bt:9524000000018:X9",
                s.STORE,
                s.CLINIC_B,
            ),
        ],
        day=3,
    )
    capture(
        ledger,
        "store",
        [
            s.ship(
                s.at(3, 10),
                [s.case(1)],
                "urn:epcglobal:cbv:bt:9524000000018:D3",
                s.STORE,
                "urn:epc:id:sgln:9524000.99999.0",
            ),
        ],
        day=3,
    )
    capture(ledger, "clinic", [s.count(s.at(20, 17), s.CLINIC, 0)], day=20)
    found = kinds(analyze(ledger, store=False))
    assert "receipt_without_shipment" in found
    assert "unregistered_destination" in found
    assert "shipment_not_received" in found


def test_short_receipt_in_doses_through_the_case(ledger: Ledger) -> None:
    epcs = supply(ledger, ship_to_clinic=False)
    capture(
        ledger,
        "store",
        [
            s.ship(
                s.at(3, 10), [s.case(1)], "urn:epcglobal:cbv:bt:9524000000018:D4", s.STORE, s.CLINIC
            ),
        ],
        day=3,
    )
    capture(
        ledger,
        "clinic",
        [
            s.receive(
                s.at(3, 15), epcs[:40], "urn:epcglobal:cbv:bt:9524000000018:D4", s.STORE, s.CLINIC
            ),
        ],
        day=3,
    )
    short = analyze(ledger, store=False).of_kind("receipt_short")
    assert [f.metrics["vials"] for f in short] == [10]


def test_backdated_sessions(ledger: Ledger) -> None:
    epcs = supply(ledger)
    capture(
        ledger,
        "clinic",
        [
            s.session(s.at(4, 9), s.at(4, 15), epcs[:2], s.CLINIC, 1, [5, 5, 5, 3]),
        ],
        day=4,
        late_days=20,
    )
    late = analyze(ledger, store=False).of_kind("backdated")
    assert len(late) == 1
    assert late[0].severity == "high"


def test_smooth_series_and_rounded_tallies(ledger: Ledger) -> None:
    epcs = supply(ledger)
    events = [
        s.session(
            s.at(4 + d, 9),
            s.at(4 + d, 15),
            epcs[4 * d : 4 * d + 4],
            s.CLINIC,
            d + 1,
            [10, 10, 10, 5],
        )
        for d in range(10)
    ]
    capture(ledger, "clinic", events, day=14)
    found = kinds(analyze(ledger, store=False))
    assert "too_smooth" in found
    assert "digit_preference" in found


def test_extension_prefix_is_resolved_by_namespace(ledger: Ledger) -> None:
    """A capture binding the dosetrail namespace to ``ds`` is read like one using ``dt``."""
    epcs = supply(ledger)
    sessions = [
        s.session(
            s.at(4, 9), s.at(4, 10), epcs[:30], s.CLINIC, 1, [100, 100, 50, 40], vaccinators=1
        )
    ]
    capture(ledger, "clinic", sessions, day=4, prefix="ds")
    assert "impossible_throughput" in kinds(analyze(ledger, store=False))


def test_double_aggregation(ledger: Ledger) -> None:
    epcs = [s.vial(i) for i in range(4)]
    capture(
        ledger,
        "donor",
        [
            s.commission(s.at(1, 8), [s.case(1), s.case(2), *epcs]),
            s.pack(s.at(1, 8, 1), s.case(1), epcs),
            s.pack(s.at(1, 8, 2), s.case(2), epcs[:2]),
        ],
        day=1,
    )
    doubled = analyze(ledger, store=False).of_kind("double_aggregation")
    assert len(doubled) == 1
    assert set(doubled[0].epcs) >= {normalise_epc(e) for e in epcs[:2]}
