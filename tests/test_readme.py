"""The README's tour runs as written (the docs are kept true by a test)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _tour() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"## A short tour.*?```sh\n(.*?)```", text, re.S).group(1)  # type: ignore[union-attr]


def test_readme_tour_runs(tmp_path: Path) -> None:
    script = _tour().replace("/tmp/", f"{tmp_path}/")
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    env.pop("DOSETRAIL_DB", None)
    result = subprocess.run(
        ["bash", "-eu", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ni:///sha-256;" in result.stdout
    assert "ok:" in result.stdout
    shutil.rmtree(tmp_path, ignore_errors=True)
