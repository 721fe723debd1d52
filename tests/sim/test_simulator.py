"""The simulator: determinism, valid EPCIS, ground truth that matches the files, honest books."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dosetrail.epcis import hash_ids, validate
from dosetrail.sim import SCENARIOS, simulate
from tests.conftest import ROOT, Runner
from tests.sim.books import on_hand, read_books

DAYS = 26


def _digest(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("honest") / "run"
    simulate("honest", 60_000, 11, out, days=DAYS)
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mixed") / "run"
    simulate("mixed", 150_000, 5, out, days=DAYS, intensity=0.1)
    return out


def test_same_seed_same_bytes(tmp_path: Path, mixed: Path) -> None:
    again = tmp_path / "again"
    simulate("mixed", 150_000, 5, again, days=DAYS, intensity=0.1)
    assert _digest(again) == _digest(mixed)


def test_other_seed_other_bytes(tmp_path: Path, honest: Path) -> None:
    other = tmp_path / "other"
    simulate("honest", 60_000, 12, other, days=DAYS)
    assert _digest(other)["truth.json"] != _digest(honest)["truth.json"]


def test_layout(honest: Path) -> None:
    for name in ("parties.json", "masterdata.jsonld", "plan.json", "truth.json", "reality.json"):
        assert (honest / name).is_file()
    parties = orjson.loads((honest / "parties.json").read_bytes())["parties"]
    keys = {p["key"] for p in parties}
    for folder in (honest / "epcis").iterdir():
        assert folder.name in keys
        for doc in folder.iterdir():
            assert re.fullmatch(r"\d{4}-\d\d-\d\d\.jsonld", doc.name)
    roles = {p["role"] for p in parties}
    assert roles == {"donor", "carrier", "store", "facility", "monitor", "operator", "witness"}


def test_every_document_is_valid_epcis(mixed: Path) -> None:
    documents = [mixed / "masterdata.jsonld", *sorted((mixed / "epcis").rglob("*.jsonld"))]
    problems = []
    for path in documents:
        report = validate(path)
        problems += [str(p) for p in report.problems]
    assert problems == []


def test_truth_hash_ids_match_documents(mixed: Path) -> None:
    truth = orjson.loads((mixed / "truth.json").read_bytes())
    hashes: dict[str, list[str]] = {}

    def of(document: str) -> list[str]:
        if document not in hashes:
            hashes[document] = list(hash_ids(mixed / document))
        return hashes[document]

    kinds = {a["kind"] for a in truth["anomalies"]}
    assert kinds == set(SCENARIOS) - {"honest", "mixed", "rewrite"}
    for anomaly in truth["anomalies"]:
        assert anomaly["events"], anomaly["id"]
        assert anomaly["doses"] >= 0
        for placed in anomaly["documents"]:
            assert of(placed["document"])[placed["index"]] == placed["event"]
    assert len(truth["rewrite"]) >= 3
    for attempt in truth["rewrite"]:
        assert of(attempt["document"])[attempt["index"]] == attempt["event"]
        assert attempt["action"] in ("drop", "alter", "insert", "fork")


def test_diverted_doses_are_the_cases_listed(mixed: Path) -> None:
    truth = orjson.loads((mixed / "truth.json").read_bytes())
    reality = orjson.loads((mixed / "reality.json").read_bytes())
    diverted = [a for a in truth["anomalies"] if a["kind"] == "diversion"]
    assert diverted
    for a in diverted:
        assert a["doses"] == len(a["epcs"]) * 500
        assert all(".100101." in epc for epc in a["epcs"])
        assert a["details"]["destination"]["id"] in reality["offbook"]
    offbook = sum(v["vials"] for k, v in reality["offbook"].items() if "/market" not in k)
    assert offbook * 10 == sum(a["doses"] for a in diverted)


def test_backdated_documents_are_captured_late(mixed: Path) -> None:
    truth = orjson.loads((mixed / "truth.json").read_bytes())
    for a in (a for a in truth["anomalies"] if a["kind"] == "backdate"):
        assert all(p["document"] == a["details"]["document"] for p in a["documents"])
        doc = orjson.loads((mixed / a["details"]["document"]).read_bytes())
        capture = a["details"]["captureDay"]
        times = [e["eventTime"][:10] for e in doc["epcisBody"]["eventList"]]
        assert times
        assert all(t < capture for t in times)


def test_honest_books_balance_per_site_and_lot(honest: Path) -> None:
    books = read_books(honest)
    computed = on_hand(books)
    assert computed
    for key, doses in computed.items():
        assert doses >= 0, key
        assert books.counts.get(key, 0) == doses, key
    truth = orjson.loads((honest / "truth.json").read_bytes())
    assert truth["anomalies"] == []
    assert truth["rewrite"] == []


def test_honest_reality_matches_claims(honest: Path) -> None:
    reality = orjson.loads((honest / "reality.json").read_bytes())
    sessions = reality["sessions"].values()
    assert sessions
    assert all(s["held"] and s["claimedDoses"] == s["trueDoses"] for s in sessions)
    assert all(s["registerMatches"] for s in sessions)
    administered = sum(s["trueDoses"] for s in sessions)
    wasted = sum(s["vialsOpenedTrue"] * 10 - s["trueDoses"] for s in sessions)
    assert 0.03 < wasted / (administered + wasted) < 0.12


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), population=st.integers(20_000, 80_000))
def test_books_balance_for_any_seed(tmp_path: Path, seed: int, population: int) -> None:
    out = tmp_path / f"run-{seed}-{population}"
    simulate("honest", population, seed, out, days=24)
    books = read_books(out)
    assert all(books.counts.get(k, 0) == v for k, v in on_hand(books).items())


def test_profile_examples_are_valid_epcis() -> None:
    text = (ROOT / "docs" / "profile.md").read_text()
    blocks = re.findall(r"```json\n(.*?)```", text, re.S)
    assert len(blocks) >= 15
    for i, block in enumerate(blocks):
        report = validate(block.encode(), f"profile example {i}")
        assert report.valid, [str(p) for p in report.problems]


def test_cli_unknown_scenario_lists_valid_ones(cli: Runner, tmp_path: Path) -> None:
    code, _, err = cli(
        "simulate",
        "--scenario",
        "bogus",
        "--population",
        "50000",
        "--seed",
        "1",
        "--out",
        tmp_path / "x",
    )
    assert code == 2
    assert "diversion" in err
    assert "cold-breach" in err


def test_cli_writes_a_run(cli: Runner, tmp_path: Path) -> None:
    code, _, err = cli(
        "simulate",
        "--scenario",
        "ghost",
        "--population",
        "30000",
        "--seed",
        "2",
        "--out",
        tmp_path / "run",
        "--days",
        "24",
        "--xml",
    )
    assert code == 0, err
    assert list((tmp_path / "run" / "epcis").rglob("*.xml"))
