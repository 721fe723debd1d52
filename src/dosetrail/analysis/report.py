"""placeholder"""
from pathlib import Path
from dosetrail.analysis.findings import Findings
def write_report(findings: Findings, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "findings.json").write_bytes(findings.to_bytes())
