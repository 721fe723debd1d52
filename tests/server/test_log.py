"""The log over HTTP: C2SP tlog-tiles bytes and caching, proofs, witness cosignatures.

The served tree must be byte-identical to ``dosetrail log tiles`` (the same encoders), audit
clean through :func:`dosetrail.log.audit.audit_log` reading over HTTP, and prove each event.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from dosetrail.errors import NotFound
from dosetrail.log.audit import audit_log
from dosetrail.log.checkpoint import Checkpoint, open_checkpoint
from dosetrail.log.cosignature import CosignatureVerifier, Cosigner
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.merkle import leaf_hash, verify_consistency, verify_inclusion
from dosetrail.log.note import Signer, open_note, parse_note
from dosetrail.server.log import IMMUTABLE
from tests.server.conftest import Live
from tests.store import docs


class HttpTiles:
    """A :class:`~dosetrail.log.tiles.TileSource` over the server's ``/log/``."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def read(self, path: str) -> bytes:
        r = self.client.get(f"/log/{path}")
        if r.status_code == 404:
            raise NotFound(path)
        r.raise_for_status()
        return r.content


@pytest.fixture
def logged(live: Live) -> Live:
    """Three captures of 100 events: 303 log entries, one full tile and a partial one."""
    for d in range(3):
        vials = [docs.vial(d * 1000 + k) for k in range(100)]
        body = docs.document(*[docs.commission(1, [v]) for v in vials])
        assert live.wait_job(live.capture(body, "donor").headers["location"])["success"]
    assert live.integrated() == 303
    return live


def test_tiles_are_the_exported_bytes_with_caching(logged: Live, tmp_path: Path) -> None:
    out = DirectoryTiles(tmp_path / "tiles")
    export_tiles(logged.state.ledger.engine, out)
    files = [p for p in (tmp_path / "tiles").rglob("*") if p.is_file() and p.name != ".lock"]
    paths = sorted(str(p.relative_to(tmp_path / "tiles")) for p in files)
    assert "tile/0/000" in paths
    assert "tile/0/001.p/47" in paths
    assert "tile/entries/001.p/47" in paths
    for path in paths:
        r = logged.client.get(f"/log/{path}")
        assert r.status_code == 200, path
        assert r.content == (tmp_path / "tiles" / path).read_bytes(), path
        if path == "checkpoint":
            assert "max-age=5" in r.headers["cache-control"]
        elif ".p/" in path:
            assert r.headers["cache-control"] == "public, max-age=60"
        else:
            assert r.headers["cache-control"] == IMMUTABLE
    for missing in ("tile/0/002", "tile/0/001", "tile/entries/001.p/200", "tile/0/1", "tile/x"):
        assert logged.client.get(f"/log/{missing}").status_code == 404, missing


def test_the_log_audits_clean_over_http(logged: Live) -> None:
    result = audit_log(HttpTiles(logged.client), [logged.state.ledger.operator.verifier])
    assert result.checkpoint.size == 303


def test_event_inclusion_and_consistency_proofs(logged: Live) -> None:
    vkey = logged.client.get("/log/key").text.strip()
    assert vkey == logged.state.ledger.operator.verifier_key
    listed = logged.client.get("/events", params={"perPage": 1}).json()
    ev = listed["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]
    from dosetrail.epcis import hash_id, read_document

    doc = read_document(docs.document({k: v for k, v in ev.items() if k != "recordTime"}))
    ident = hash_id(doc.events[0], doc.prefixes())
    r = logged.client.get("/log/proof/event", params={"id": ident})
    assert r.status_code == 200, r.text
    proof = r.json()["proofs"][0]
    entry = base64.b64decode(proof["entry"])
    assert ident.encode() in entry
    signed = open_checkpoint(proof["checkpoint"].encode(), [logged.state.ledger.operator.verifier])
    cp = signed.checkpoint
    hashes = [base64.b64decode(h) for h in proof["inclusionProof"]]
    verify_inclusion(leaf_hash(entry), proof["logIndex"], cp.size, hashes, cp.root)
    missing = "ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0"
    assert logged.client.get("/log/proof/event", params={"id": missing}).status_code == 404
    assert logged.client.get("/log/proof/event", params={"id": "nope"}).status_code == 400
    # grow the log, then prove the old checkpoint is a prefix of the new one
    body = docs.document(docs.commission(1, [docs.vial(9999)]))
    assert logged.wait_job(logged.capture(body, "donor").headers["location"])["success"]
    new_size = logged.integrated()
    c = logged.client.get("/log/proof/consistency", params={"old": cp.size}).json()
    assert c["newSize"] == new_size
    new = Checkpoint.parse(parse_note(logged.client.get("/log/checkpoint").content)[0])
    proof_hashes = [base64.b64decode(h) for h in c["consistencyProof"]]
    verify_consistency(cp.size, new.size, cp.root, new.root, proof_hashes)
    incl = logged.client.get("/log/proof/inclusion", params={"index": 0, "size": cp.size})
    assert incl.json()["treeSize"] == cp.size


def test_witness_cosignatures_are_verified_stored_and_served(logged: Live) -> None:
    note = logged.client.get("/log/checkpoint").content
    body = parse_note(note)[0]
    witness = Cosigner(logged.signers["witness1"])
    line = witness.cosign(body, int(time.time())).line()
    r = logged.client.post("/log/cosignature", content=line.encode())
    assert r.status_code == 200, r.text
    assert r.json()["treeSize"] == 303
    served = logged.client.get("/log/checkpoint").content
    assert served == note + line.encode()
    opened = open_note(served, [CosignatureVerifier.from_key(witness.verifier_key)])
    assert opened.text == body
    cosigned = logged.client.get("/log/checkpoint", params={"cosigned": "true"}).content
    assert cosigned == served
    # an unregistered witness, a forged signature, garbage
    stranger = Cosigner(Signer.generate("stranger")).cosign(body, int(time.time())).line()
    assert logged.client.post("/log/cosignature", content=stranger.encode()).status_code == 403
    forged = witness.cosign(body.replace("303", "304"), int(time.time())).line()
    assert logged.client.post("/log/cosignature", content=forged.encode()).status_code == 422
    assert logged.client.post("/log/cosignature", content=b"hello").status_code in (400, 422)
    assert logged.client.get("/log/checkpoint").content == served


def test_dashboard_event_links_resolve(logged: Live) -> None:
    page = logged.client.get("/dashboard/events/1")
    assert page.status_code == 200
    assert "inclusion proof" in page.text
    assert logged.client.get("/dashboard/events/0").status_code == 404  # a capture entry
    ident = "ni:///sha-256;" + page.text.split("ni:///sha-256;", 1)[1].split("</code>", 1)[0]
    assert ident.endswith("?ver=CBV2.0")
    assert logged.client.get(f"/events/{quote(ident, safe='')}").status_code == 200
