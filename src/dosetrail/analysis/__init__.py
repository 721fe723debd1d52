"""Analysis: from the ledger alone, where doses went, what was wasted or spoiled, and where the
records look wrong.

The public surface: :func:`analyze` (ledger or engine → :class:`Findings`, also stored in the
ledger's ``finding`` table), :data:`KINDS` (the closed list of finding kinds, documented in
``docs/findings.md``) and :func:`write_report` (``findings.json`` + self-contained
``report.html``). Indicators live in modules named after their concept: ``stock``,
``shipments``, ``coldchain``, ``coverage``, ``diversion``, ``fabrication``, ``contradictions``.
"""

from __future__ import annotations

from dosetrail.analysis.findings import KINDS, SCHEMA_VERSION, Finding, Findings
from dosetrail.analysis.report import write_report
from dosetrail.analysis.run import STEPS, Progress, analyze

__all__ = [
    "KINDS",
    "SCHEMA_VERSION",
    "STEPS",
    "Finding",
    "Findings",
    "Progress",
    "analyze",
    "write_report",
]
