"""Capture over HTTP (EPCIS 2.0 §12): jobs, single events, signatures, roles, bad input.

Runs on SQLite and PostgreSQL. Every refused request is checked to have changed nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import socket
import time
from pathlib import Path
from urllib.parse import unquote

import orjson
import sqlalchemy as sa

from dosetrail.home import Home
from dosetrail.log.note import Signer
from dosetrail.log.storage import log_entry
from dosetrail.server.client import capture_header, sign_capture, signed_headers
from dosetrail.server.tables import capture_job
from dosetrail.store.schema import event
from tests.server.conftest import Live, serve
from tests.store import docs


def _doc(first: int, n: int = 3) -> bytes:
    return docs.document(*[docs.commission(1, [docs.vial(first + k)]) for k in range(n)])


def _counts(live: Live) -> tuple[int, int, int]:
    with live.state.ledger.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in (event, log_entry, capture_job)
        )


def test_capture_job_stores_events_and_reports_them(live: Live) -> None:
    r = live.capture(_doc(1), "donor")
    assert r.status_code == 202, r.text
    assert r.headers["location"].startswith("/capture/")
    assert r.headers["gs1-epcis-version"] == "2.0.0"
    job = live.wait_job(r.headers["location"])
    assert job["success"] is True
    assert job["errors"] == []
    assert job["captureErrorBehaviour"] == "rollback"
    assert job["captured"]["storedCount"] == 3
    assert job["captured"]["eventLogIndices"] == [[1, 3]]
    events = live.client.get("/events").json()["epcisBody"]["queryResults"]["resultsBody"]
    assert len(events["eventList"]) == 3
    assert "finishedAt" in job
    assert "createdAt" in job


def test_the_same_document_twice_is_stored_once(live: Live) -> None:
    body = _doc(10)
    first = live.wait_job(live.capture(body, "donor").headers["location"])
    again = live.wait_job(live.capture(body, "donor").headers["location"])
    assert first["captured"]["storedCount"] == 3
    assert again["success"]
    assert again["captured"]["alreadyCaptured"] is True
    assert _counts(live)[:2] == (3, 4)


def test_unsigned_request_is_401_and_changes_nothing(live: Live) -> None:
    before = _counts(live)
    body = _doc(20)
    r = live.client.post(
        "/capture", content=body, headers=capture_header(live.signers["donor"], body)
    )
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"] == "epcisException:SecurityException"
    assert problem["status"] == 401
    assert "www-authenticate" in r.headers
    assert _counts(live) == before


def test_replayed_request_is_refused(live: Live) -> None:
    body = _doc(30)
    headers = {
        **signed_headers(live.signers["donor"], "POST", "/capture", body),
        **capture_header(live.signers["donor"], body),
    }
    first = live.client.post("/capture", content=body, headers=headers)
    assert first.status_code == 202
    live.wait_job(first.headers["location"])
    before = _counts(live)
    replay = live.client.post("/capture", content=body, headers=headers)
    assert replay.status_code == 401
    assert "replayed" in replay.json()["detail"]
    assert _counts(live) == before


def test_forged_or_stale_signatures_are_401(live: Live) -> None:
    body = _doc(40)
    donor, store = live.signers["donor"], live.signers["store"]
    cap = capture_header(donor, body)
    before = _counts(live)
    # the body was changed after signing: Content-Digest no longer matches
    sig = signed_headers(donor, "POST", "/capture", body)
    assert live.client.post("/capture", content=_doc(41), headers={**sig, **cap}).status_code == 401
    # signed by another party's key under the donor's name
    forged = signed_headers(store, "POST", "/capture", body)
    forged["Signature-Input"] = forged["Signature-Input"].replace('keyid="store"', 'keyid="donor"')
    assert live.client.post("/capture", content=body, headers={**forged, **cap}).status_code == 401
    # signed ten minutes ago
    stale = signed_headers(donor, "POST", "/capture", body, created=int(time.time()) - 600)
    assert live.client.post("/capture", content=body, headers={**stale, **cap}).status_code == 401
    # a party the ledger does not know
    ghost = Signer.generate("ghost")
    unknown = {**signed_headers(ghost, "POST", "/capture", body), **capture_header(ghost, body)}
    r = live.client.post("/capture", content=body, headers=unknown)
    assert r.status_code == 401
    assert "not a registered party" in r.json()["detail"]
    assert _counts(live) == before


def test_role_rules_apply_403(live: Live) -> None:
    before = _counts(live)
    r = live.capture(_doc(50), "carrier")  # a carrier may not commission
    assert r.status_code == 403
    assert "may not record bizStep" in r.json()["detail"]
    assert _counts(live) == before


def test_the_party_signs_the_capture_not_the_server(live: Live) -> None:
    body = _doc(60)
    missing = live.signed("POST", "/capture", "donor", body, {"Content-Type": "application/json"})
    assert missing.status_code == 401
    assert "Dosetrail-Capture-Signature" in missing.json()["detail"]
    # a capture signature over another document: the job fails with an integrity problem
    wrong = {
        "Dosetrail-Capture-Signature": base64.b64encode(
            sign_capture(live.signers["donor"], _doc(61))
        ).decode()
    }
    r = live.signed("POST", "/capture", "donor", body, wrong)
    job = live.wait_job(r.headers["location"])
    assert job["success"] is False
    assert job["errors"][0]["status"] == 422
    assert "signed note is not over this document" in job["errors"][0]["detail"]
    assert _counts(live)[0] == 0


def _with_bad_event() -> bytes:
    good = [docs.commission(1, [docs.vial(70 + k)]) for k in range(3)]
    del good[1]["eventTimeZoneOffset"]
    return docs.document(*good)


def test_rollback_rejects_the_whole_document_with_per_event_errors(live: Live) -> None:
    job = live.wait_job(live.capture(_with_bad_event(), "donor").headers["location"])
    assert job["success"] is False
    assert job["captureErrorBehaviour"] == "rollback"
    assert {p["eventIndex"] for p in job["errors"]} == {1}  # one RFC 7807 object per problem
    assert all(p["type"] == "epcisException:ValidationException" for p in job["errors"])
    assert _counts(live)[:2] == (0, 0)


def test_proceed_stores_the_valid_events(live: Live) -> None:
    r = live.capture(_with_bad_event(), "donor", behaviour="proceed")
    job = live.wait_job(r.headers["location"])
    assert job["success"] is False
    assert job["captureErrorBehaviour"] == "proceed"
    assert {e["eventIndex"] for e in job["errors"]} == {1}
    assert job["captured"]["storedCount"] == 2
    with live.state.ledger.engine.connect() as conn:
        positions = sorted(conn.execute(sa.select(event.c.position)).scalars())
    assert positions == [0, 2]  # each stored event keeps its index in the signed document


def test_malformed_and_unsupported_bodies_are_answered_cleanly(live: Live) -> None:
    before = _counts(live)
    bad = b'{"type": "EPCISDocument", "epcisBody": '
    r = live.signed("POST", "/capture", "donor", bad, {"Dosetrail-Capture-Signature": "AAAA"})
    assert r.status_code == 400
    assert r.json()["title"] == "Malformed input"
    r = live.signed("POST", "/capture", "donor", b"x,y", {"Content-Type": "text/csv"})
    assert r.status_code == 415
    r = live.capture(_doc(80), "donor", behaviour="all")
    assert r.status_code == 400
    assert _counts(live) == before


def test_oversized_bodies_are_413(live: Live) -> None:
    live.state.settings = dataclasses.replace(live.state.settings, max_body_bytes=2000)
    body = _doc(90, n=20)
    assert len(body) > 2000
    r = live.capture(body, "donor")
    assert r.status_code == 413
    assert r.json()["type"] == "epcisException:CaptureLimitExceededException"
    live.state.settings = dataclasses.replace(live.state.settings, capture_limit=2)
    small = _doc(95, n=3)
    assert len(small) < 2000
    assert live.capture(small, "donor").status_code == 413
    assert _counts(live)[0] == 0


def test_a_slow_client_gets_408(live: Live) -> None:
    live.state.settings = dataclasses.replace(live.state.settings, body_timeout_s=0.5)
    body = _doc(100)
    headers = {
        **signed_headers(live.signers["donor"], "POST", "/capture", body),
        **capture_header(live.signers["donor"], body),
        "Content-Length": str(len(body)),
        "Host": "127.0.0.1",
    }
    with socket.create_connection(("127.0.0.1", int(live.url.rsplit(":", 1)[1])), timeout=10) as s:
        head = "POST /capture HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        s.sendall(head.encode() + b"\r\n" + body[:10])  # then stall
        answer = s.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 408"), answer[:200]
    assert _counts(live)[0] == 0


def test_post_events_captures_one_event_synchronously(live: Live) -> None:
    ev = orjson.dumps({"@context": docs.CONTEXT, **docs.commission(1, [docs.vial(200)])})
    headers = {**capture_header(live.signers["donor"], ev), "Content-Type": "application/ld+json"}
    r = live.signed("POST", "/events", "donor", ev, headers)
    assert r.status_code == 201, r.text
    location = r.headers["location"]
    assert unquote(location).startswith("/events/ni:///sha-256;")
    got = live.client.get(location)
    assert got.status_code == 200
    listed = got.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert listed[0]["epcList"] == [docs.vial(200)]
    again = live.signed("POST", "/events", "donor", ev, headers)
    assert again.status_code == 409
    assert location in again.json()["detail"]
    assert _counts(live)[0] == 1


def test_jobs_acknowledged_before_a_crash_finish_after_the_restart(
    home: Home, tmp_path: Path
) -> None:
    """202 means stored: a server that dies before running the job runs it when it restarts."""
    first = serve(home, tmp_path, start_worker=False)
    live = next(first)
    locations = [live.capture(_doc(300 + 10 * n), "donor").headers["location"] for n in range(3)]
    assert all(live.client.get(loc).json()["running"] for loc in locations)
    first.close()  # the worker never ran: the jobs exist only in capture_job
    second = serve(home, tmp_path)
    again = next(second)
    jobs = [again.wait_job(loc) for loc in locations]
    assert all(j["success"] for j in jobs)
    assert sum(j["captured"]["storedCount"] for j in jobs) == 9
    second.close()
