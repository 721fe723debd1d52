"""The findings contract: stable ids, the ``finding`` table, findings.json and report.html."""

from __future__ import annotations

from pathlib import Path

import orjson
import sqlalchemy as sa

from dosetrail.analysis import KINDS, SCHEMA_VERSION, analyze, write_report
from dosetrail.analysis.findings import Finding, finding_id
from dosetrail.store.engine import read_tx
from dosetrail.store.ledger import Ledger
from dosetrail.store.schema import finding
from tests.analysis import stream as s
from tests.analysis.test_indicators import capture, supply
from tests.conftest import Runner


def _clone(ledger: Ledger) -> None:
    epcs = supply(ledger)
    capture(
        ledger,
        "clinic",
        [s.session(s.at(4, 9), s.at(4, 15), epcs[:2], s.CLINIC, 1, [5, 5, 5, 3])],
        day=4,
    )
    capture(
        ledger,
        "clinic-b",
        [s.session(s.at(4, 8), s.at(4, 12), epcs[:2], s.CLINIC_B, 2, [5, 5, 5, 3])],
        day=4,
    )


def test_ids_are_stable_and_stored_once(ledger: Ledger) -> None:
    _clone(ledger)
    first = analyze(ledger)
    again = analyze(ledger)
    assert [f.id for f in first.sorted()] == [f.id for f in again.sorted()]
    with read_tx(ledger.engine) as conn:
        rows = conn.execute(sa.select(finding.c.key, finding.c.kind, finding.c.body)).fetchall()
    assert sorted(r.key for r in rows) == sorted(f"analysis/{f.id}" for f in first.findings)
    body = orjson.loads(rows[0].body)
    assert body["id"] == rows[0].key.removeprefix("analysis/")


def test_id_is_kind_and_subject() -> None:
    one = Finding("clone", "high", "t", "e", ("site",))
    assert one.id == finding_id("clone", ["site"])
    assert one.id != Finding("clone", "high", "t2", "e2", ("other",)).id
    assert one.id.startswith("clone-")


def test_findings_json_and_self_contained_report(ledger: Ledger, tmp_path: Path) -> None:
    _clone(ledger)
    ledger.integrate()
    found = analyze(ledger, store=False)
    data, page = write_report(found, tmp_path / "out")
    doc = orjson.loads(data.read_bytes())
    assert doc["version"] == SCHEMA_VERSION
    assert doc["generated"]["logSize"] > 0
    assert doc["generated"]["rootHash"]
    for f in doc["findings"]:
        assert f["kind"] in KINDS
        assert f["severity"] in ("high", "medium", "low")
        assert set(f) >= {
            "id",
            "title",
            "explanation",
            "locations",
            "parties",
            "epcs",
            "events",
            "log_indices",
        }
        assert len(f["events"]) == len(f["log_indices"])
    html = page.read_text(encoding="utf-8")
    assert "<script src=" not in html
    assert "Plotly" in html
    assert all(f["id"] in html for f in doc["findings"])


def test_docs_list_every_kind() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "findings.md").read_text()
    for kind in KINDS:
        assert f"`{kind}`" in text, kind


def test_analyze_command(cli: Runner, tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("DOSETRAIL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DOSETRAIL_DB", raising=False)
    code, out, err = cli("analyze", "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert (tmp_path / "out" / "findings.json").is_file()
    assert (tmp_path / "out" / "report.html").is_file()
    assert "findings" in out
