"""`dosetrail demo` tells the whole story end to end (small population, same code path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dosetrail.certify.trust import Trust
from dosetrail.certify.verify import verify_bundle
from dosetrail.demo import run_demo
from dosetrail.errors import Conflict
from tests.conftest import Runner


def test_demo_end_to_end(tmp_path: Path, cli: Runner) -> None:
    out = tmp_path / "demo"
    result = run_demo(out, population=60_000, seed=7)
    for name in (
        "bundle.zip",
        "trusted-keys.txt",
        "report.html",
        "findings.json",
        "log/checkpoint",
    ):
        assert (out / name).is_file(), name
    assert result.events > 1000
    assert result.findings > 0
    assert result.checkpoint is not None
    assert "certificate signature" in result.forgery_detected
    assert "entry" in result.tamper_detected
    trust = Trust.parse((out / "trusted-keys.txt").read_text())
    assert verify_bundle(out / "bundle.zip", trust).ok
    code, stdout, _ = cli("verify", out / "bundle.zip", "--trust", out / "trusted-keys.txt")
    assert code == 0
    assert "doses reached beneficiaries" in stdout
    code, _, err = cli("verify", out / "bundle-tampered.zip", "--trust", out / "trusted-keys.txt")
    assert code == 1
    assert "certificate signature" in err
    log_key = next(
        line.split()[1]
        for line in (out / "trusted-keys.txt").read_text().splitlines()
        if line.startswith("log ")
    )
    code, stdout, _ = cli("log", "verify", out / "log", "--key", log_key)
    assert code == 0
    assert stdout.startswith("ok:")
    code, _, err = cli("log", "verify", out / "log-tampered", "--key", log_key)
    assert code == 1


def test_demo_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(Conflict, match="not empty"):
        run_demo(tmp_path, population=60_000)
