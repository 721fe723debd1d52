"""EPCIS 2.0 §12 queries over REST: /events, per-dimension resources, named queries, paging,
content negotiation and version headers (SQLite and PostgreSQL)."""

from __future__ import annotations

from urllib.parse import quote

import orjson
import pytest
from lxml import etree

from dosetrail.epcis import read_document
from dosetrail.epcis.identifiers import normalise_epc
from tests.server.conftest import Live
from tests.store import docs

VIALS = [docs.vial(n) for n in range(1, 7)]


@pytest.fixture
def stocked(live: Live) -> Live:
    """Commissioning and packing by the donor, shipping by the donor, receipt at the store."""
    body = docs.document(
        docs.commission(1, VIALS),
        docs.pack(1, docs.case(1), VIALS[:3]),
        docs.pack(1, docs.case(2), VIALS[3:]),
        docs.observe(2, "shipping", docs.ORIGIN, [docs.case(1), docs.case(2)], "in_transit"),
    )
    assert live.wait_job(live.capture(body, "donor").headers["location"])["success"]
    body = docs.document(docs.observe(3, "receiving", docs.STORE, [docs.case(1)]))
    assert live.wait_job(live.capture(body, "store").headers["location"])["success"]
    return live


def _events(response: object) -> list[dict[str, object]]:
    body = response.json()  # type: ignore[attr-defined]
    assert body["type"] == "EPCISQueryDocument"
    listed: list[dict[str, object]] = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return listed


def test_events_and_simple_event_query_parameters(stocked: Live) -> None:
    c = stocked.client
    assert len(_events(c.get("/events"))) == 5
    assert len(_events(c.get("/events", params={"EQ_bizStep": "packing"}))) == 2
    assert len(_events(c.get("/events", params={"MATCH_epc": VIALS[0]}))) == 2  # + childEPCs
    assert len(_events(c.get("/events", params={"eventType": "AggregationEvent"}))) == 2
    r = c.get("/events", params={"EQ_quantity": "5"})
    assert r.status_code == 400
    assert "EQ_quantity" in r.json()["detail"]


def test_paging_follows_link_headers(stocked: Live) -> None:
    seen: list[str] = []
    url: str | None = "/events?perPage=2"
    pages = 0
    while url:
        r = stocked.client.get(url)
        assert r.status_code == 200
        seen += [str(e["eventTime"]) + str(e.get("bizStep")) for e in _events(r)]
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
        if link:
            assert 'rel="next"' in link
            assert "nextPageToken" in r.json()
        pages += 1
    assert pages == 3
    assert len(seen) == 5


def test_per_dimension_resources(stocked: Live) -> None:
    c = stocked.client
    steps = c.get("/bizSteps").json()
    assert steps["type"] == "Collection"
    assert {"commissioning", "packing", "shipping", "receiving"} <= set(steps["member"])
    assert len(_events(c.get("/bizSteps/packing/events"))) == 2
    assert c.get("/bizSteps/packing").json()["member"] == ["events"]
    assert "ObjectEvent" in c.get("/eventTypes").json()["member"]
    assert len(_events(c.get("/eventTypes/ObjectEvent/events"))) == 3
    assert c.get("/eventTypes/NoSuchEvent").status_code == 404
    locations = c.get("/bizLocations").json()["member"]
    assert len(locations) == 2
    store = normalise_epc(docs.STORE)
    assert store in locations
    assert len(_events(c.get(f"/bizLocations/{quote(store, safe='')}/events"))) == 1
    assert len(c.get("/readPoints").json()["member"]) == 2
    assert c.get("/dispositions").json()["member"]
    epcs = c.get("/epcs", params={"perPage": 3})
    assert len(epcs.json()["member"]) == 3
    assert 'rel="next"' in epcs.headers["link"]
    vial = quote(VIALS[0], safe="")
    # a vial is named by its commissioning and by its case's packing event
    assert len(_events(c.get(f"/epcs/{vial}/events"))) == 2


def test_xml_by_content_negotiation(stocked: Live) -> None:
    r = stocked.client.get("/events", headers={"Accept": "application/xml"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(r.content)
    assert root.tag == "{urn:epcglobal:epcis-query:xsd:2}EPCISQueryDocument"
    assert len(read_document(r.content).events) == 5
    assert stocked.client.get("/events", headers={"Accept": "text/csv"}).status_code == 406
    jsonld = stocked.client.get("/events", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"] == "application/ld+json"
    assert stocked.client.get("/events").headers["content-type"] == "application/json"


def test_version_headers(stocked: Live) -> None:
    r = stocked.client.get("/events")
    assert r.headers["gs1-epcis-version"] == "2.0.0"
    assert r.headers["gs1-cbv-version"] == "2.0.0"
    assert stocked.client.get("/events", headers={"GS1-EPCIS-Version": "1.2"}).status_code == 406
    assert stocked.client.get("/events", headers={"GS1-EPCIS-Min": "2.1"}).status_code == 406
    assert stocked.client.get("/events", headers={"GS1-EPCIS-Max": "2.0"}).status_code == 200


def test_one_event_by_hash_id(stocked: Live) -> None:
    listed = _events(stocked.client.get("/events", params={"EQ_bizStep": "receiving"}))
    doc = read_document(orjson.dumps({"@context": docs.CONTEXT, **listed[0]}))
    from dosetrail.epcis import hash_id

    ident = hash_id(doc.events[0], doc.prefixes())
    got = _events(stocked.client.get(f"/events/{quote(ident, safe='')}"))
    assert got[0]["bizStep"] == "receiving"
    assert stocked.client.get("/events/urn:uuid:0000").status_code == 404


def test_named_queries(stocked: Live) -> None:
    definition = orjson.dumps({"name": "packed", "query": {"EQ_bizStep": ["packing"]}})
    r = stocked.signed("POST", "/queries", "donor", definition)
    assert r.status_code == 201
    assert r.headers["location"] == "/queries/packed"
    assert stocked.signed("POST", "/queries", "donor", definition).status_code == 409
    unsigned = stocked.client.post("/queries", content=definition)
    assert unsigned.status_code == 401
    bad = orjson.dumps({"name": "bad", "query": {"EQ_quantity": 3}})
    assert stocked.signed("POST", "/queries", "donor", bad).status_code == 400
    assert [q["name"] for q in stocked.client.get("/queries").json()] == ["packed"]
    assert stocked.client.get("/queries/packed").json()["query"] == {"EQ_bizStep": ["packing"]}
    run = stocked.client.get("/queries/packed/events", params={"perPage": 1})
    assert run.json()["epcisBody"]["queryResults"]["queryName"] == "packed"
    assert len(_events(run)) == 1
    assert "link" in run.headers
    assert stocked.client.get("/queries/packed/subscriptions").status_code == 501
    assert stocked.signed("DELETE", "/queries/packed", "donor").status_code == 204
    assert stocked.client.get("/queries/packed").status_code == 404


def test_restricted_read_access(stocked: Live) -> None:
    import dataclasses

    stocked.state.settings = dataclasses.replace(
        stocked.state.settings, read_access="restricted", read_roles=frozenset({"donor"})
    )
    assert stocked.client.get("/events").status_code == 401
    assert stocked.signed("GET", "/events", "donor").status_code == 200
    assert stocked.signed("GET", "/events", "carrier").status_code == 403
    assert stocked.client.get("/log/checkpoint").status_code == 200  # the log stays public


def test_options_discovery(live: Live) -> None:
    r = live.client.options("/capture")
    assert r.status_code == 204
    assert set(r.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert r.headers["gs1-epcis-capture-limit"]
    assert live.client.options("/nowhere").status_code == 404


def test_browsers_are_sent_to_the_dashboard(live: Live) -> None:
    r = live.client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/"
    assert "capture" in live.client.get("/").json()["member"]


def test_dashboard_pages_work_on_an_empty_ledger(live: Live) -> None:
    for page in ("", "flow", "provinces", "coldchain", "findings", "certificate"):
        r = live.client.get(f"/dashboard/{page}")
        assert r.status_code == 200, (page, r.text[:300])
        assert "<nav>" in r.text
    assert live.client.get("/dashboard/certificates/../../keys/donor.key").status_code == 404
    assert live.client.get("/dashboard/certificates/missing.zip").status_code == 404
