"""Signed capture into the ledger: one transaction, idempotent, authenticated, role-checked.

Runs on SQLite and PostgreSQL (``home`` fixture).
"""

from __future__ import annotations

import base64
import copy

import orjson
import pytest
import sqlalchemy as sa

from dosetrail.epcis import hash_id, read_document
from dosetrail.errors import AuthError, IntegrityError, InvalidDocument
from dosetrail.log.note import Signer, open_note, sign_note
from dosetrail.log.storage import log_entry, log_size
from dosetrail.store.capture import capture_text
from dosetrail.store.ledger import Ledger
from dosetrail.store.schema import capture, event, event_epc
from tests.store import docs


def _counts(ledger: Ledger) -> tuple[int, int, int, int]:
    with ledger.engine.connect() as conn:
        n = [
            int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in (capture, event, event_epc, log_entry)
        ]
        return n[0], n[1], n[2], n[3]


VIALS = [docs.vial(n) for n in range(1, 5)]
DOC = docs.document(docs.commission(1, VIALS), docs.pack(1, docs.case(1), VIALS))


def test_capture_stores_events_and_log_entries(ledger: Ledger) -> None:
    result = ledger.capture(DOC, "donor", name="doc.jsonld")
    assert (result.events, result.stored, result.duplicates) == (2, 2, ())
    assert result.log_index == 0
    assert result.event_log_indices == (1, 2)
    assert _counts(ledger) == (1, 2, 4 + 5, 3)
    with ledger.engine.connect() as conn:
        assert log_size(conn) == 3
        entries = [
            orjson.loads(r)
            for r in conn.execute(sa.select(log_entry.c.data).order_by(log_entry.c.idx)).scalars()
        ]
    doc = read_document(DOC)
    assert entries[0]["kind"] == "capture"
    assert entries[0]["count"] == 2
    assert [e["event"] for e in entries[1:]] == [hash_id(ev, doc.prefixes()) for ev in doc.events]
    assert [e["index"] for e in entries[1:]] == [0, 1]


def test_log_entries_are_rfc8785_canonical_json(ledger: Ledger) -> None:
    ledger.capture(DOC, "donor")
    with ledger.engine.connect() as conn:
        for data in conn.execute(sa.select(log_entry.c.data)).scalars():
            value = orjson.loads(data)
            assert bytes(data) == orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
            assert len(data) < 400


def test_authorship_is_provable_from_the_log_entry_alone(ledger: Ledger) -> None:
    """The capture entry carries what a verifier needs: text fields and the signature."""
    ledger.capture(DOC, "donor")
    with ledger.engine.connect() as conn:
        entry = orjson.loads(
            conn.execute(sa.select(log_entry.c.data).where(log_entry.c.idx == 0)).scalar_one()
        )
    donor = next(p for p in ledger.parties() if p.name == "donor")
    text = capture_text(entry["capture"], entry["count"], base64.b64decode(entry["root"]))
    note = (text + "\n" + f"— donor {entry['signature']}\n").encode()
    assert open_note(note, [donor.verifier]).text == text
    forged = capture_text(entry["capture"], entry["count"] + 1, base64.b64decode(entry["root"]))
    with pytest.raises(IntegrityError):
        open_note((forged + "\n" + f"— donor {entry['signature']}\n").encode(), [donor.verifier])


def test_same_document_twice_is_idempotent(ledger: Ledger) -> None:
    ledger.capture(DOC, "donor")
    before = _counts(ledger)
    again = ledger.capture(DOC, "donor")
    assert again.already_captured
    assert _counts(ledger) == before


def test_same_events_in_another_document_are_reported_as_duplicates(ledger: Ledger) -> None:
    ledger.capture(DOC, "donor")
    reordered = docs.document(docs.pack(1, docs.case(1), VIALS), docs.commission(1, VIALS[::-1]))
    result = ledger.capture(reordered, "donor")
    assert result.stored == 0
    assert [i for i, _ in result.duplicates] == [0, 1]
    assert _counts(ledger)[1] == 2  # no event stored twice
    assert _counts(ledger)[3] == 4  # only the second capture's own entry was logged


def test_error_declaration_keeps_both_versions(ledger: Ledger) -> None:
    original = docs.observe(2, "shipping", docs.ORIGIN, [docs.case(1)], "in_transit")
    ledger.capture(docs.document(original), "donor")
    declared = copy.deepcopy(original)
    declared["errorDeclaration"] = {
        "declarationTime": "2024-03-03T10:00:00Z",
        "reason": "incorrect_data",
    }
    result = ledger.capture(docs.document(declared), "donor")
    assert result.stored == 1
    page = ledger.query({"EQ_bizStep": "shipping"})
    assert len(page.events) == 2
    assert sum("errorDeclaration" in e.event for e in page.events) == 1
    assert len(ledger.query({"EXISTS_errorDeclaration": "true"}).events) == 1


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (
            docs.document(
                docs.commission(1, VIALS),
                {**docs.commission(1, VIALS), "eventTime": "2024-03-01T08:00:00"},
            ),
            "eventTime",
        ),
        (docs.document(docs.observe(1, "teleporting", docs.ORIGIN, VIALS)), "bizStep"),
        (
            docs.document(docs.observe(1, "receiving", docs.ORIGIN, VIALS)),
            "bizStep",
        ),  # not a donor step
    ],
)
def test_rejected_documents_store_nothing(ledger: Ledger, document: bytes, field: str) -> None:
    before = _counts(ledger)
    with pytest.raises(InvalidDocument) as caught:
        ledger.capture(document, "donor", name="bad.jsonld")
    assert any(p.location.field == field for p in caught.value.problems)
    assert all(p.location.document == "bad.jsonld" for p in caught.value.problems)
    assert _counts(ledger) == before


def test_unknown_party_is_refused(ledger: Ledger) -> None:
    with pytest.raises(AuthError, match="unknown party"):
        ledger.capture(DOC, "mallory")
    assert _counts(ledger) == (0, 0, 0, 0)


def test_roles_limit_what_a_party_records(ledger: Ledger) -> None:
    with pytest.raises(InvalidDocument, match="a facility may not record bizStep"):
        ledger.capture(DOC, "clinic")
    assert _counts(ledger) == (0, 0, 0, 0)


def test_externally_signed_captures(ledger: Ledger) -> None:
    outside = Signer.generate("ngo")
    ledger.add_party("ngo", "donor", outside.verifier_key)
    with pytest.raises(AuthError, match="no private key"):
        ledger.capture(DOC, "ngo")
    doc = read_document(DOC)
    import hashlib

    from dosetrail.epcis import digest
    from dosetrail.log.merkle import leaf_hash, root_of

    digests = [digest(ev, doc.prefixes()) for ev in doc.events]
    text = capture_text(
        hashlib.sha256(DOC).hexdigest(), len(digests), root_of([leaf_hash(d) for d in digests])
    )
    wrong_text = capture_text(hashlib.sha256(DOC).hexdigest(), len(digests) + 1, root_of([]))
    with pytest.raises(IntegrityError, match="not over this document"):
        ledger.capture(DOC, "ngo", signature=sign_note(wrong_text, [outside]))
    with pytest.raises(IntegrityError, match="trusted key"):
        ledger.capture(DOC, "ngo", signature=sign_note(text, [Signer.generate("ngo")]))
    assert _counts(ledger) == (0, 0, 0, 0)
    result = ledger.capture(DOC, "ngo", signature=sign_note(text, [outside]))
    assert result.stored == 2


def test_record_time_is_the_capture_time(ledger: Ledger) -> None:
    ledger.capture(DOC, "donor", received=1_700_000_000_000_000)
    page = ledger.query({})
    assert {e.event["recordTime"] for e in page.events} == {"2023-11-14T22:13:20.000Z"}


def test_xml_capture_is_validated_against_the_xsd(ledger: Ledger) -> None:
    from dosetrail.epcis import to_xml_bytes

    xml = to_xml_bytes(read_document(DOC))
    assert ledger.capture(xml, "donor", name="doc.xml").stored == 2
    broken = xml.replace(b"<action>ADD</action>", b"<action>ADD</action><bogus/>", 1)
    with pytest.raises(InvalidDocument) as caught:
        ledger.capture(broken, "donor", name="broken.xml")
    assert any(p.location.event == 0 for p in caught.value.problems)


def test_only_the_operator_publishes_master_data(ledger: Ledger) -> None:
    md = docs.document(master_data=docs.locations({docs.STORE: [docs.CLINIC]}, {}))
    with pytest.raises(InvalidDocument, match="may not define locations"):
        ledger.capture(md, "store")
    assert ledger.capture(md, "operator").stored == 0


def test_site_bound_parties_record_only_at_their_own_site(ledger: Ledger) -> None:
    md = docs.document(master_data=docs.locations({docs.STORE: [docs.CLINIC]}, {}))
    ledger.capture(md, "operator")
    ledger.add_party("clinic-2", "facility", site="urn:epc:id:sgln:9520001.00004.0")
    ledger.add_party("county", "store", site=docs.STORE)
    receipt = docs.document(docs.observe(3, "receiving", docs.CLINIC, VIALS))
    with pytest.raises(InvalidDocument, match="is not clinic-2's site"):
        ledger.capture(receipt, "clinic-2")  # the clinic below the store is someone else's
    assert ledger.capture(receipt, "county").stored == 1  # below the county store: allowed
    elsewhere = docs.document(
        docs.observe(4, "receiving", "urn:epc:id:sgln:9520001.00099.0", VIALS)
    )
    assert (
        ledger.capture(elsewhere, "clinic-2").stored == 1
    )  # unregistered place: kept, flagged later


def test_monitor_observations_need_the_monitor_role(ledger: Ledger) -> None:
    ledger.add_party("monitor", "monitor")
    seen = docs.observe(5, "inspecting", docs.CLINIC, VIALS[:1])
    seen["dt:observation"] = {"dt:siteExists": True}
    with pytest.raises(InvalidDocument, match="only by a monitor"):
        ledger.capture(docs.document(seen), "store")
    assert ledger.capture(docs.document(seen), "monitor").stored == 1
    plain = docs.observe(5, "inspecting", docs.CLINIC, VIALS[:1])
    with pytest.raises(InvalidDocument, match="a monitor records inspections with dt:observation"):
        ledger.capture(docs.document(plain), "monitor")


def test_proceed_stores_the_valid_events_and_reports_the_rest(ledger: Ledger) -> None:
    """EPCIS 2.0 captureErrorBehaviour "proceed": valid events are stored, the others named."""
    from dosetrail.store.capture import CaptureRequest

    events = [docs.commission(1, [docs.vial(900 + k)]) for k in range(3)]
    del events[1]["eventTimeZoneOffset"]
    data = docs.document(*events)
    with pytest.raises(InvalidDocument):
        ledger.capture(data, "donor")  # rollback (the default): nothing stored
    [result] = ledger.capture_batch([CaptureRequest(data, "donor", "p.jsonld", proceed=True)])
    assert not isinstance(result, Exception)
    assert result.stored == 2
    assert {p.location.event for p in result.rejected} == {1}
    assert _counts(ledger)[1] == 2
