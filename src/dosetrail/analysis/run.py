"""Run every indicator over the ledger, in one read transaction, and store the findings.

The analysis reads the prefix of the log covered by the newest checkpoint (so every finding's
evidence can be proven against it), computes each family of indicators, stores the findings in
the ``finding`` table (upsert by key) and returns them with the tables the report draws.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy.engine import Engine

from dosetrail.analysis import (
    coldchain,
    contents,
    contradictions,
    coverage,
    diversion,
    fabrication,
    ledgerdata,
    sessions,
    shipments,
    stock,
)
from dosetrail.analysis.findings import Finding, Findings, dedupe, store_findings
from dosetrail.store.engine import read_tx, write_tx
from dosetrail.store.ledger import Ledger

__all__ = ["STEPS", "Progress", "analyze"]

Progress = Callable[[str, int, int], None]
"""Called as (step description, steps done, steps in all)."""

STEPS = (
    "reading the ledger",
    "resolving containers and lots",
    "reconciling stock",
    "matching shipments and receipts",
    "cold chain",
    "coverage and sessions",
    "fabrication indicators",
    "contradictions",
    "storing findings",
)


def analyze(
    source: Ledger | Engine,
    progress: Progress | None = None,
    *,
    holidays: Collection[date] = (),
    store: bool = True,
) -> Findings:
    """Analyse the ledger; findings are also stored in its ``finding`` table if ``store``."""
    engine = source.engine if isinstance(source, Ledger) else source
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(STEPS[min(done, len(STEPS) - 1)], done, len(STEPS))

    if progress is not None:
        progress(STEPS[0], 0, len(STEPS))
    found: list[Finding] = []
    tables: dict[str, object] = {}
    with read_tx(engine) as conn:
        data = ledgerdata.load(conn)
        tick()
        packed = contents.contents(data)
        moves = stock.flows(data, packed)
        tick()
        new, balance = stock.stock_findings(data, packed, moves)
        found += new
        found += stock.expiry_findings(data, packed, moves)
        tables.update(balance)
        tables["sankey"] = _sankey(data, moves)
        tick()
        found += shipments.shipment_findings(data, moves)
        tick()
        cold, alarmed, timeline = coldchain.coldchain_findings(data, moves)
        found += cold
        found += stock.wastage_findings(data, packed, moves, alarmed)
        tables.update(timeline)
        tick()
        s = sessions.sessions(data)
        new, cover = coverage.coverage_findings(data, s, holidays)
        found += new
        found += diversion.oversupply_findings(data, packed, moves, s)
        tables.update(cover)
        tick()
        found += fabrication.digit_findings(data, s)
        found += fabrication.smoothness_findings(data, s)
        tick()
        found += contradictions.clone_findings(data)
        found += contradictions.double_aggregation_findings(data)
        found += contradictions.backdate_findings(data)
        found += contradictions.location_findings(data)
        found += contradictions.overlap_findings(data, s)
        tick()
        tables["names"] = dict(
            zip(data.locations["id"].to_list(), data.locations["name"].to_list(), strict=True)
        )
        covered = data.covered.as_json()
    unique = dedupe(found)
    if store:
        with write_tx(engine) as conn:
            store_findings(conn, unique)
    tick()
    at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return Findings(unique, covered, at, tables)


def _sankey(data: ledgerdata.LedgerData, moves: pl.DataFrame) -> list[dict[str, object]]:
    """Doses shipped between site types (port → central → provinces → counties → facilities)."""
    kinds = data.locations.select(pl.col("id").alias("site"), "site_type")
    ships = (
        moves.filter(pl.col("step") == "shipping")
        .group_by("event")
        .agg(pl.col("doses").sum(), pl.col("site").first())
    )
    receipts = (
        moves.filter(pl.col("step") == "receiving")
        .group_by("event")
        .agg(pl.col("site").first().alias("to"))
    )
    shipped = ships.join(kinds, on="site", how="left").rename({"site_type": "from_type"})
    desadv: dict[int, str] = {}
    for step in ("shipping", "receiving"):
        for index, body in data.bodies.get(step, []):
            for item in body.get("bizTransactionList") or []:
                if isinstance(item, dict) and str(item.get("type", "")).endswith("desadv"):
                    desadv[index] = str(item.get("bizTransaction"))
    link = pl.DataFrame(
        list(desadv.items()), schema={"event": pl.Int64, "desadv": pl.String}, orient="row"
    )
    sent = shipped.join(link, on="event", how="inner")
    got = (
        receipts.join(link, on="event", how="inner")
        .join(kinds.rename({"site": "to", "site_type": "to_type"}), on="to", how="left")
        .select("desadv", "to_type")
    )
    flows = (
        sent.join(got, on="desadv", how="left")
        .with_columns(pl.col("to_type").fill_null("not received"))
        .group_by("from_type", "to_type")
        .agg(pl.col("doses").sum())
    )
    return flows.to_dicts()
