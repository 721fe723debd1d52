"""Fabrication indicators: digit preference and series too smooth to be counts of people.

- **Terminal-digit preference / heaping.** Counts that people write rather than tally end in 0
  or 5 far more often than the 20 % chance gives (Beber & Scacco, "What the numbers say", 2012;
  the WHO Data Quality Review module 2 uses the same test on reported counts). Per facility, the
  last digits of every tally of 10 or more are tested against uniform with a χ²(9) test.
- **Too smooth.** The number of people who come to a session is a count: at least Poisson-
  variable, in practice more (weather, distance, the first days' rush). A series of session
  totals whose variance is far *below* its mean is a quota written down, not a queue counted.
  Per facility and post, and per campaign period (sessions more than a week apart start a new
  period), the dispersion statistic Σ(x − x̄)²/x̄ follows χ²(n − 1) under Poisson; the lower tail
  of the sum over groups is the test.
- **Benford.** First- and second-digit (Benford) tests need numbers spanning orders of magnitude;
  session tallies (tens) and facility totals (hundreds to low thousands) do not, so the tests
  would flag honest data. They are deliberately not run (docs/findings.md).
"""

from __future__ import annotations

import polars as pl

from dosetrail.analysis.findings import Finding
from dosetrail.analysis.ledgerdata import LedgerData
from dosetrail.analysis.sessions import Sessions
from dosetrail.analysis.stats import chi2_cdf, chi2_sf

__all__ = ["digit_findings", "smoothness_findings"]

P_DIGITS = 1e-4
P_SMOOTH = 1e-4
MIN_TALLIES = 20
MIN_DF = 5
_PERIOD_BREAK_US = 7 * 86_400_000_000


def digit_findings(data: LedgerData, s: Sessions) -> list[Finding]:
    counts = s.tallies.filter(pl.col("count") >= 10).with_columns(
        (pl.col("count") % 10).alias("digit")
    )
    found: list[Finding] = []
    for (site,), group in counts.group_by("site"):
        n = group.height
        if n < MIN_TALLIES:
            continue
        observed = group["digit"].value_counts()
        tally = dict(zip(observed["digit"].to_list(), observed["count"].to_list(), strict=True))
        expected = n / 10
        stat = sum((tally.get(d, 0) - expected) ** 2 / expected for d in range(10))
        p = chi2_sf(stat, 9)
        round_share = (tally.get(0, 0) + tally.get(5, 0)) / n
        if p >= P_DIGITS or round_share < 0.4:
            continue
        events = group["log_index"].unique().to_list()
        hashes, indices = data.evidence(events)
        found.append(
            Finding(
                kind="digit_preference",
                severity="medium",
                title=f"Tallies end in 0 or 5 too often at {data.site_name(site)}",
                explanation=(
                    f"{round_share:.0%} of {n} tallies of 10 or more at "
                    f"{data.site_name(site)} end in 0 or 5, where counting gives about 20 % "
                    f"(χ² test of last digits, p = {p:.1e}). Rounded numbers are written, not "
                    "counted: the tallies were probably padded."
                ),
                subject=(site,),
                locations=(str(site),),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"roundShare": round_share, "p": p},
            )
        )
    return found


def smoothness_findings(data: LedgerData, s: Sessions) -> list[Finding]:
    frame = s.sessions.sort("site", "post", "end").with_columns(
        (pl.col("end").diff().over("site", "post") > _PERIOD_BREAK_US)
        .fill_null(False)
        .cum_sum()
        .over("site", "post")
        .alias("period")
    )
    groups = (
        frame.group_by("site", "post", "period")
        .agg(
            pl.len().alias("n"),
            pl.col("total").mean().alias("mean"),
            ((pl.col("total") - pl.col("total").mean()) ** 2).sum().alias("ss"),
            pl.col("log_index"),
        )
        .filter(pl.col("n") >= 3, pl.col("mean") >= 5)
    )
    per_site = groups.group_by("site").agg(
        (pl.col("ss") / pl.col("mean")).sum().alias("stat"),
        (pl.col("n") - 1).sum().alias("df"),
        (pl.col("ss").sum() / (pl.col("mean") * (pl.col("n") - 1)).sum()).alias("dispersion"),
        pl.col("log_index").list.explode(keep_nulls=False, empty_as_null=False),
    )
    found: list[Finding] = []
    for row in per_site.iter_rows(named=True):
        if row["df"] < MIN_DF:
            continue
        p = chi2_cdf(row["stat"], row["df"])
        if p >= P_SMOOTH:
            continue
        site = row["site"]
        hashes, indices = data.evidence(row["log_index"])
        found.append(
            Finding(
                kind="too_smooth",
                severity="high",
                title=f"Session totals too regular at {data.site_name(site)}",
                explanation=(
                    f"Session totals at {data.site_name(site)} vary {row['dispersion']:.2f} "
                    "times as much as Poisson counts would (less than chance allows; "
                    f"χ² lower tail p = {p:.1e} over {len(row['log_index'])} sessions). "
                    "Attendance is never this even: the figures look like a quota copied day "
                    "after day."
                ),
                subject=(site,),
                locations=(str(site),),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"dispersion": float(row["dispersion"]), "p": p},
            )
        )
    return found
