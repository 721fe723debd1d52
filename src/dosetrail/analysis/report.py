"""``findings.json`` and a self-contained ``report.html`` (plotly inlined, no network).

A person would rather look than read: a Sankey of doses from the port down to facilities, a
coverage chart and table by province, logger timelines with the +2–8 °C band, and the findings
table, each finding anchored by its id with its evidence (log index and event hash ID) listed.
The page is rendered from the Jinja2 template ``templates/report.html.j2``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import plotly.graph_objects as go
import plotly.offline
import polars as pl

from dosetrail.analysis.findings import Findings

__all__ = ["render_html", "write_report"]

_TIMELINES = 6


def write_report(findings: Findings, out: Path) -> tuple[Path, Path]:
    """Write ``out/findings.json`` and ``out/report.html``; returns both paths."""
    out.mkdir(parents=True, exist_ok=True)
    data, page = out / "findings.json", out / "report.html"
    data.write_bytes(findings.to_bytes())
    page.write_text(render_html(findings), encoding="utf-8")
    return data, page


def _div(figure: go.Figure) -> str:
    html: str = figure.to_html(include_plotlyjs=False, full_html=False)
    return html


def _sankey(flows: list[dict[str, Any]]) -> str:
    if not flows:
        return "<p>No shipments recorded.</p>"
    order = [
        "origin_warehouse",
        "sea_port",
        "railhead",
        "border_crossing",
        "central_store",
        "provincial_store",
        "county_store",
        "county_hospital",
        "ri_clinic",
        "dong_clinic",
        "not received",
    ]
    labels = sorted(
        {str(f["from_type"]) for f in flows} | {str(f["to_type"]) for f in flows},
        key=lambda x: (order.index(x) if x in order else len(order), x),
    )
    index = {label: i for i, label in enumerate(labels)}
    figure = go.Figure(
        go.Sankey(
            node={"label": [label.replace("_", " ") for label in labels], "pad": 18},
            link={
                "source": [index[str(f["from_type"])] for f in flows],
                "target": [index[str(f["to_type"])] for f in flows],
                "value": [f["doses"] for f in flows],
            },
        )
    )
    figure.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return _div(figure)


def _provinces(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    table = []
    for r in rows:
        target = r.get("target") or 0
        table.append(
            {
                "name": r.get("province_name") or r.get("province") or "(no province)",
                "target": target,
                "dose1": r.get("dose1") or 0,
                "dose2": r.get("dose2") or 0,
                "coverage": f"{(r.get('dose1') or 0) / target:.0%}" if target else "—",
            }
        )
    if not table:
        return table, "<p>No sessions recorded.</p>"
    figure = go.Figure(
        [
            go.Bar(name="dose 1", x=[t["name"] for t in table], y=[t["dose1"] for t in table]),
            go.Bar(name="dose 2", x=[t["name"] for t in table], y=[t["dose2"] for t in table]),
            go.Scatter(
                name="target population",
                mode="markers",
                marker={"symbol": "line-ew-open", "size": 30},
                x=[t["name"] for t in table],
                y=[t["target"] for t in table],
            ),
        ]
    )
    figure.update_layout(barmode="group", height=380, margin={"t": 10})
    return table, _div(figure)


def _timelines(findings: Findings) -> str:
    frame = findings.tables.get("timeline")
    if not isinstance(frame, pl.DataFrame) or frame.height == 0:
        return "<p>No temperature reports.</p>"
    flagged = [
        e
        for f in findings.sorted()
        if f.kind in ("heat_alarm", "freeze_alarm", "logger_gap")
        for e in f.epcs
    ]
    devices = list(dict.fromkeys(flagged))
    devices += [d for d in frame["device"].unique().sort().to_list() if d not in devices]
    figure = go.Figure()
    for device in devices[:_TIMELINES]:
        part = frame.filter(pl.col("device") == device).sort("hour")
        hours = part["hour"].to_list()
        x = [pl.Series([h * 3_600_000_000]).cast(pl.Datetime("us"))[0] for h in hours]
        figure.add_trace(
            go.Scatter(x=x, y=part["max"].to_list(), name=device.rsplit(".", 1)[-1], mode="lines")
        )
    figure.add_hrect(y0=2, y1=8, fillcolor="green", opacity=0.08, line_width=0)
    figure.update_layout(height=380, yaxis_title="°C", margin={"t": 10})
    return _div(figure)


def render_html(findings: Findings) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dosetrail.analysis", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    ordered = [f.as_json() for f in findings.sorted()]
    counts = {s: sum(1 for f in ordered if f["severity"] == s) for s in ("high", "medium", "low")}
    provinces, coverage_chart = _provinces(list(findings.tables.get("provinces", [])))
    facilities = findings.tables.get("facilities", [])
    given = sum(int(r.get("dose1") or 0) + int(r.get("dose2") or 0) for r in facilities)
    names = findings.tables.get("names", {})
    return env.get_template("report.html.j2").render(
        findings=ordered,
        counts=counts,
        covered=findings.covered,
        generated=findings.generated_at,
        plotly_js=plotly.offline.get_plotlyjs(),
        sankey=_sankey(list(findings.tables.get("sankey", []))),
        provinces=provinces,
        coverage_chart=coverage_chart,
        timeline=_timelines(findings),
        doses_given=given,
        names=names if isinstance(names, dict) else {},
    )
