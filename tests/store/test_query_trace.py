"""EPCIS 2.0 queries (EPCIS 2.0 §8.2.7.1) and trace through aggregation, on both databases."""

from __future__ import annotations

import pytest

from dosetrail.epcis.identifiers import epc_to_digital_link
from dosetrail.errors import MalformedInput
from dosetrail.store.ledger import Ledger
from tests.store import docs

VIALS = [docs.vial(n) for n in range(1, 7)]
CASE_A, CASE_B, PALLET = docs.case(1), docs.case(2), docs.pallet(1)
PROVINCE = "urn:epc:id:sgln:9520001.00010.0"


def _campaign(ledger: Ledger) -> None:
    """Vials → two cases → a pallet; shipped, received at the store; case A goes on to a clinic."""
    tree = {PROVINCE: [docs.STORE], docs.STORE: [docs.CLINIC]}
    names = {PROVINCE: "Province", docs.STORE: "County store", docs.CLINIC: "Clinic 1"}
    ledger.capture(docs.document(master_data=docs.locations(tree, names)), "operator")
    ledger.capture(
        docs.document(
            docs.commission(1, VIALS),
            docs.pack(1, CASE_A, VIALS[:3]),
            docs.pack(1, CASE_B, VIALS[3:]),
            docs.pack(2, PALLET, [CASE_A, CASE_B]),
            docs.observe(3, "shipping", docs.ORIGIN, [PALLET], "in_transit"),
        ),
        "donor",
    )
    ledger.capture(
        docs.document(
            docs.observe(5, "receiving", docs.STORE, [PALLET]),
            docs.unpack(6, PALLET, None, docs.STORE),
            docs.observe(7, "shipping", docs.STORE, [CASE_A], "in_transit"),
            docs.observe(
                20, "shipping", docs.STORE, [PALLET], "in_transit"
            ),  # empty pallet returned
        ),
        "store",
    )
    ledger.capture(
        docs.document(
            docs.observe(8, "receiving", docs.CLINIC, [CASE_A]),
            docs.unpack(9, CASE_A, [VIALS[0]], docs.CLINIC),
            docs.observe(10, "dispensing", docs.CLINIC, [VIALS[0]], "dispensed"),
        ),
        "clinic",
    )


def _steps(ledger: Ledger, **params: str) -> list[str]:
    page = ledger.query(params, per_page=1000)
    return [str(e.event["bizStep"]) for e in page.events]


def test_filters(ledger: Ledger) -> None:
    _campaign(ledger)
    assert _steps(ledger, eventType="AggregationEvent") == ["packing"] * 3 + ["unpacking"] * 2
    assert _steps(ledger, EQ_bizStep="urn:epcglobal:cbv:bizstep:receiving") == ["receiving"] * 2
    assert _steps(ledger, EQ_bizStep="receiving|dispensing") == [
        "receiving",
        "receiving",
        "dispensing",
    ]
    assert _steps(ledger, EQ_disposition="in_transit") == ["shipping"] * 3
    assert _steps(ledger, EQ_action="DELETE") == ["unpacking"] * 2
    assert _steps(
        ledger, GE_eventTime="2024-03-08T00:00:00+09:00", LT_eventTime="2024-03-10T00:00:00+09:00"
    ) == [
        "receiving",
        "unpacking",
    ]
    assert len(_steps(ledger, GE_recordTime="2000-01-01T00:00:00Z")) == 12
    assert _steps(ledger, LT_recordTime="2000-01-01T00:00:00Z") == []


def test_locations_and_descendants(ledger: Ledger) -> None:
    _campaign(ledger)
    assert _steps(ledger, EQ_bizLocation=docs.CLINIC) == ["receiving", "unpacking", "dispensing"]
    as_link = epc_to_digital_link(docs.CLINIC)
    assert _steps(ledger, EQ_bizLocation=as_link) == ["receiving", "unpacking", "dispensing"]
    assert len(_steps(ledger, WD_bizLocation=PROVINCE)) == 7  # store + clinic, via master data
    assert len(_steps(ledger, WD_bizLocation=docs.STORE)) == 7
    assert len(_steps(ledger, EQ_bizLocation=PROVINCE)) == 0


def test_identifier_matching(ledger: Ledger) -> None:
    _campaign(ledger)
    assert _steps(ledger, MATCH_epc=VIALS[0]) == [
        "commissioning",
        "packing",
        "unpacking",
        "dispensing",
    ]
    assert _steps(ledger, MATCH_epc=epc_to_digital_link(VIALS[0]))[0] == "commissioning"
    assert _steps(ledger, MATCH_parentID=CASE_A) == ["packing", "unpacking"]
    assert _steps(ledger, MATCH_anyEPC=CASE_A) == [
        "packing",
        "packing",
        "shipping",
        "receiving",
        "unpacking",
    ]
    pattern = "urn:epc:idpat:sgtin:9520001.012345.*"
    assert len(_steps(ledger, MATCH_epc=pattern)) == 5  # commission, 2 packs, unpack, dispense


def test_paging_returns_everything_once(ledger: Ledger) -> None:
    _campaign(ledger)
    for order in ({}, {"orderBy": "eventTime"}, {"orderBy": "eventTime", "orderDirection": "DESC"}):
        seen: list[int] = []
        token = None
        while True:
            params = dict(order, **({"nextPageToken": token} if token else {}))
            page = ledger.query(params, per_page=5)
            seen.extend(e.log_index for e in page.events)
            token = page.next_page_token
            if token is None:
                break
        assert len(seen) == len(set(seen)) == 12


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"EQ_quantity": "5"}, "EQ_quantity"),
        ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
        ({"eventType": "TeleportEvent"}, "eventType"),
        ({"nextPageToken": "garbage!"}, "nextPageToken"),
        ({"orderBy": "bizStep"}, "orderBy"),
        ({"EQ_eventID": "urn:uuid:1"}, "EQ_eventID"),
    ],
)
def test_bad_parameters_are_named(ledger: Ledger, params: dict[str, str], field: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        ledger.query(params)
    assert caught.value.location.field == field


def test_event_id_query_by_hash(ledger: Ledger) -> None:
    _campaign(ledger)
    from dosetrail.epcis import hash_id

    some = ledger.query({"EQ_bizStep": "dispensing"}).events[0].event
    found = ledger.query({"EQ_eventID": hash_id(some, {})}).events
    assert [e.event["bizStep"] for e in found] == ["dispensing"]


def test_trace_follows_a_vial_through_case_and_pallet(ledger: Ledger) -> None:
    _campaign(ledger)
    steps = ledger.trace(VIALS[0])
    story = [
        (s.biz_step.rsplit("-", 1)[-1] if s.biz_step else None, s.via.rsplit("/", 1)[-1])
        for s in steps
    ]
    vial_id, case_id, pallet_id = (
        epc_to_digital_link(x).rsplit("/", 1)[-1] for x in (VIALS[0], CASE_A, PALLET)
    )
    assert story == [
        ("commissioning", vial_id),
        ("packing", vial_id),
        ("packing", case_id),
        ("shipping", pallet_id),
        ("receiving", pallet_id),
        ("unpacking", pallet_id),
        ("shipping", case_id),
        ("receiving", case_id),
        ("unpacking", vial_id),
        ("dispensing", vial_id),
    ]
    assert [s.location_name for s in steps][-1] == "Clinic 1"
    # the pallet's later trip (after it was emptied) is not part of the vial's story
    assert all(s.event_time < steps[-1].event_time or s.via.endswith(vial_id) for s in steps)


def test_trace_of_a_vial_that_stayed_in_its_case(ledger: Ledger) -> None:
    _campaign(ledger)
    steps = ledger.trace(VIALS[1])
    assert [s.biz_step.rsplit("-", 1)[-1] for s in steps if s.biz_step][-2:] == [
        "receiving",
        "unpacking",
    ]
    assert steps[-1].via.endswith(epc_to_digital_link(CASE_A).rsplit("/", 1)[-1])
