"""Diversion indicators beyond the books: sites receiving far more than they can use.

A site that receives far above its need is where stock is parked before it leaves the programme,
or the paper destination that covers stock sent elsewhere (the books then balance only because
the site "uses" it in padded sessions). Need is the target population in the location master data
(profile §5) times the doses per course (the highest ``dt:doseNumber`` any session reports) over
one minus the WHO indicative wastage rate for the vial size (:mod:`dosetrail.analysis.stock`).
A site receiving more than 1.5 times that is flagged.
"""

from __future__ import annotations

import polars as pl

from dosetrail.analysis.contents import Contents
from dosetrail.analysis.findings import Finding
from dosetrail.analysis.ledgerdata import FACILITY_TYPES, LedgerData
from dosetrail.analysis.sessions import Sessions
from dosetrail.analysis.stock import indicative_wastage

__all__ = ["OVERSUPPLY", "oversupply_findings"]

OVERSUPPLY = 1.5


def oversupply_findings(
    data: LedgerData, contents: Contents, moves: pl.DataFrame, s: Sessions
) -> list[Finding]:
    top = s.tallies["dose"].max() if s.tallies.height else 1
    courses = int(top) if isinstance(top, int) and top > 0 else 1
    dpv = max(contents.dpv.values(), default=1)
    allowance = 1 / (1 - indicative_wastage(dpv))
    received = (
        moves.filter(pl.col("step") == "receiving")
        .group_by("site")
        .agg(pl.col("doses").sum(), pl.col("event").unique())
        .join(
            data.locations.select(pl.col("id").alias("site"), "target", "site_type"),
            on="site",
        )
        .filter(pl.col("site_type").is_in(list(FACILITY_TYPES)), pl.col("target") > 0)
        .with_columns((pl.col("doses") / (pl.col("target") * courses * allowance)).alias("ratio"))
        .filter(pl.col("ratio") > OVERSUPPLY)
    )
    found: list[Finding] = []
    for row in received.iter_rows(named=True):
        site = row["site"]
        hashes, indices = data.evidence(row["event"])
        need = row["target"] * courses * allowance
        found.append(
            Finding(
                kind="oversupply",
                severity="high" if row["ratio"] > 2 else "medium",
                title=f"{data.site_name(site)} received {row['ratio']:.1f}× its need",
                explanation=(
                    f"{data.site_name(site)} received {row['doses']:,} doses for a target "
                    f"population of {row['target']:,} ({courses} dose(s) each, "
                    f"{indicative_wastage(dpv):.0%} wastage allowed: {need:,.0f} doses). Stock "
                    "far above need is where diverted doses are parked or covered on paper."
                ),
                subject=(site,),
                locations=(site,),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"ratio": float(row["ratio"])},
            )
        )
    return found
