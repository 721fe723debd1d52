"""Helpers shared by the benchmarks: JSON-line output and peak memory of a child process."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from typing import Any


def emit(**fields: Any) -> None:
    """One benchmark result as one JSON line on stdout."""
    print(json.dumps(fields, sort_keys=False), flush=True)


def peak_rss_mb() -> float:
    """Peak resident set size of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter (clean peak-RSS accounting); it prints one JSON line."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result
