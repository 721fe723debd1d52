"""What the dashboard shows, computed from the ledger by :func:`dosetrail.analysis.analyze`.

The analysis reads the prefix of the log its newest checkpoint covers, so its numbers can be
proven; it takes seconds on a national ledger, so one :class:`AnalysisCache` per server keeps the
latest result and refreshes it in the background once the log has grown and the result is older
than ``max_age`` (a page is never held up by a refresh, only the very first one waits). The
charts are the analysis report's own figures (:mod:`dosetrail.analysis.report`), not copies.
"""

from __future__ import annotations

import logging
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Engine

from dosetrail.analysis import Findings, analyze
from dosetrail.analysis import report as _report
from dosetrail.log.storage import latest_checkpoint
from dosetrail.store.engine import read_tx

__all__ = ["AnalysisCache", "Certificate", "Snapshot", "certificates", "funnel"]

_log = logging.getLogger("dosetrail.server.overview")
FACILITY_TYPES = ("county_hospital", "ri_clinic", "dong_clinic")


@dataclass(frozen=True, slots=True)
class Snapshot:
    findings: Findings
    size: int  # the checkpoint size the analysis covered
    made: float  # time.monotonic() when it finished

    def sankey(self) -> str:
        return _report._sankey(list(self.findings.tables.get("sankey", [])))

    def provinces(self) -> tuple[list[dict[str, Any]], str]:
        return _report._provinces(list(self.findings.tables.get("provinces", [])))

    def timeline(self) -> str:
        return _report._timelines(self.findings)

    def names(self) -> dict[str, str]:
        names = self.findings.tables.get("names", {})
        return names if isinstance(names, dict) else {}


def funnel(findings: Findings, verified: int | None) -> list[dict[str, Any]]:
    """Shipped → delivered → administered → verified, in doses, with what each step means."""
    flows = list(findings.tables.get("sankey", []))
    shipped = sum(int(f["doses"]) for f in flows if f["from_type"] == "origin_warehouse")
    delivered = sum(int(f["doses"]) for f in flows if f["to_type"] in FACILITY_TYPES)
    given = sum(
        int(r.get("dose1") or 0) + int(r.get("dose2") or 0)
        for r in findings.tables.get("facilities", [])
    )
    steps = [
        ("shipped", shipped, "doses shipped from the origin warehouse"),
        ("delivered", delivered, "doses shipped on to facilities"),
        ("administered", given, "doses facilities report given (session tallies)"),
        ("verified", verified, "doses a certificate's monitor sample covers"),
    ]
    top = max([shipped, delivered, given, 1])
    return [
        {
            "step": step,
            "doses": doses,
            "meaning": meaning,
            "percent": None if doses is None else round(100 * doses / top),
        }
        for step, doses, meaning in steps
    ]


class AnalysisCache:
    """The latest analysis of the ledger, refreshed in the background when stale."""

    def __init__(self, engine: Engine, max_age: float) -> None:
        self._engine = engine
        self._max_age = max_age
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()  # one analysis at a time
        self._refreshing = False

    def _checkpoint_size(self) -> int:
        with read_tx(self._engine) as conn:
            latest = latest_checkpoint(conn)
        return 0 if latest is None else latest[0]

    def _compute(self) -> Snapshot:
        with self._lock:
            size = self._checkpoint_size()
            snap = self._snapshot
            if snap is not None and snap.size == size:
                return snap
            findings = analyze(self._engine, store=False)
            self._snapshot = Snapshot(findings, size, time.monotonic())
            return self._snapshot

    def _refresh(self) -> None:
        try:
            self._compute()
        except Exception:  # a failed refresh keeps the previous snapshot
            _log.exception("background analysis failed")
        finally:
            self._refreshing = False

    def get(self) -> Snapshot:
        """The latest snapshot; the first call computes it, later ones never wait."""
        snap = self._snapshot
        if snap is None:
            return self._compute()
        stale = time.monotonic() - snap.made > self._max_age
        if stale and not self._refreshing and self._checkpoint_size() != snap.size:
            self._refreshing = True
            threading.Thread(target=self._refresh, name="analysis", daemon=True).start()
        return snap


@dataclass(frozen=True, slots=True)
class Certificate:
    """A certificate bundle found in ``DOSETRAIL_HOME/certificates``."""

    name: str
    size: int
    modified: str
    summary: dict[str, Any]


def certificates(root: Path) -> list[Certificate]:
    """Bundles ``root/certificates/*.zip``, newest first, with their manifest's top fields.

    Certification (``dosetrail.certify``) writes the bundles; this only lists what is there, so
    the page reads "no certificate yet" until the first one exists.
    """
    folder = root / "certificates"
    found = []
    for path in sorted(folder.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True):
        stat = path.stat()
        when = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
        found.append(Certificate(path.name, stat.st_size, when, _summary(path)))
    return found


def _summary(path: Path) -> dict[str, Any]:
    """What the page shows of a bundle's signed certificate (empty if it is unreadable).

    Display only: the statement's signature is checked by ``dosetrail verify``, offline.
    """
    try:
        with zipfile.ZipFile(path) as z:
            cert = orjson.loads(z.read("certificate.json"))
    except (OSError, KeyError, zipfile.BadZipFile, orjson.JSONDecodeError):
        return {}
    if not isinstance(cert, dict):
        return {}
    sessions, verdict = (
        v if isinstance(v := cert.get(key), dict) else {} for key in ("sessions", "verdict")
    )
    found = {
        "programme": cert.get("programme"),
        "period": cert.get("period"),
        "headline": cert.get("headline"),
        "supported": verdict.get("supported"),
        "verified_doses": sessions.get("certified"),
        "lower_bound": sessions.get("lowerBound"),
    }
    return {k: v for k, v in found.items() if isinstance(v, str | int | float | bool)}
