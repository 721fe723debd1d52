"""Coverage and session plausibility: doses given against the target population.

The target population is ``dt:targetPopulation`` of each facility and area in the location master
data (profile §5), the denominator WHO coverage surveys use (people eligible in the catchment).
Reported first doses above it, second doses above first doses, more doses per vaccinator-hour
than a person can give, and sessions at night are the classic signs of tallies written rather than
counted (WHO, *Assessing and improving the accuracy of target population estimates for
immunization coverage*, 2015, and the WHO *Data Quality Self-assessment* tool, which flags
coverage > 100 % and dose-2 > dose-1 "drop-out" inversions).

Thresholds leave room for honest noise: coverage is flagged above 110 % (catchments are
estimates, people cross boundaries), dose 2 above dose 1 by more than 5 %, throughput above 60
doses per vaccinator-hour (one injection a minute, with screening and recording, all day), a
session at night if it opens before 06:00 or closes after 21:00 local time. Public holidays are
a programme calendar the ledger does not hold: pass them to :func:`coverage_findings`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import polars as pl

from dosetrail.analysis.findings import Finding
from dosetrail.analysis.ledgerdata import FACILITY_TYPES, LedgerData
from dosetrail.analysis.sessions import Sessions

__all__ = ["coverage_findings", "coverage_table"]

OVER_COVERAGE = 1.10
DOSE2_SLACK = 1.05
MAX_DOSES_PER_VACCINATOR_HOUR = 60.0
DAY_STARTS, DAY_ENDS = 6 * 60, 21 * 60


def coverage_table(data: LedgerData, s: Sessions) -> pl.DataFrame:
    """Doses by site and dose number with the site's target, province and county."""
    per = s.tallies.group_by("site", "dose").agg(pl.col("count").sum())
    wide = per.pivot(on="dose", index="site", values="count", aggregate_function="sum")
    wide = wide.rename({c: f"dose{c}" for c in wide.columns if c != "site"})
    for needed in ("dose1", "dose2"):
        if needed not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.Int64).alias(needed))
    locs = data.locations.select(
        pl.col("id").alias("site"), "name", "site_type", "province", "county", "target"
    )
    return wide.fill_null(0).join(locs, on="site", how="left")


def coverage_findings(
    data: LedgerData, s: Sessions, holidays: Collection[date] = ()
) -> tuple[list[Finding], dict[str, Any]]:
    found: list[Finding] = []
    table = coverage_table(data, s)
    session_events = s.sessions.group_by("site").agg(pl.col("log_index"))
    events_of = {r[0]: r[1] for r in session_events.iter_rows()}
    name = data.site_name
    for row in table.iter_rows(named=True):
        site, target = row["site"], row["target"]
        hashes, indices = data.evidence(events_of.get(site, []))
        base = {
            "locations": (site,),
            "parties": data.parties_of(indices),
            "events": hashes,
            "log_indices": indices,
        }
        if target and row["dose1"] > OVER_COVERAGE * target:
            share = row["dose1"] / target
            found.append(
                Finding(
                    kind="coverage_over_100",
                    severity="high" if share > 1.25 else "medium",
                    title=f"First-dose coverage {share:.0%} at {name(site)}",
                    explanation=(
                        f"{name(site)} reports {row['dose1']:,} first doses for a target "
                        f"population of {target:,} ({share:.0%}). More people than live in the "
                        "catchment: tallies were padded, or doses came from elsewhere."
                    ),
                    subject=(site, "dose1"),
                    metrics={"coverage": share},
                    **base,
                )
            )
        if row["dose2"] > DOSE2_SLACK * row["dose1"] and row["dose2"] >= 20:
            found.append(
                Finding(
                    kind="dose2_exceeds_dose1",
                    severity="medium",
                    title=f"More second doses than first at {name(site)}",
                    explanation=(
                        f"{name(site)} reports {row['dose2']:,} second doses but only "
                        f"{row['dose1']:,} first doses; people come back for dose 2 where they "
                        "had dose 1, so the series cannot be right."
                    ),
                    subject=(site, "dose2>dose1"),
                    metrics={"dose1": float(row["dose1"]), "dose2": float(row["dose2"])},
                    **base,
                )
            )
    found += _throughput(data, s)
    found += _hours(data, s, holidays)
    provinces = (
        table.group_by("province")
        .agg(pl.col("dose1").sum(), pl.col("dose2").sum())
        .join(
            data.locations.filter(pl.col("site_type") == "province").select(
                pl.col("id").alias("province"), pl.col("name").alias("province_name"), "target"
            ),
            on="province",
            how="left",
        )
        .sort("province")
    )
    facilities = table.filter(pl.col("site_type").is_in(list(FACILITY_TYPES)))
    return found, {"provinces": provinces.to_dicts(), "facilities": facilities.to_dicts()}


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _minute(column: str) -> pl.Expr:
    """Local minute of the day of a µs UTC time column, by the session's offset."""
    return (pl.col(column) // 60_000_000 + pl.col("offset")) % 1440


def _throughput(data: LedgerData, s: Sessions) -> list[Finding]:
    frame = s.sessions.filter(
        pl.col("start").is_not_null(), pl.col("vaccinators") > 0, pl.col("end") > pl.col("start")
    ).with_columns(
        (
            pl.col("total")
            / (pl.col("vaccinators") * (pl.col("end") - pl.col("start")) / 3_600_000_000)
        ).alias("rate")
    )
    found: list[Finding] = []
    fast = frame.filter(pl.col("rate") > MAX_DOSES_PER_VACCINATOR_HOUR)
    for (site,), group in fast.group_by("site"):
        hashes, indices = data.evidence(group["log_index"].to_list())
        worst = _float(group["rate"].max())
        found.append(
            Finding(
                kind="impossible_throughput",
                severity="high",
                title=f"Impossible session throughput at {data.site_name(site)}",
                explanation=(
                    f"{group.height} session(s) at {data.site_name(site)} claim up to "
                    f"{worst:.0f} doses per vaccinator-hour; above "
                    f"{MAX_DOSES_PER_VACCINATOR_HOUR:.0f} (one a minute without a break) "
                    "the tallies cannot be counts of people vaccinated."
                ),
                subject=(site,),
                locations=(str(site),),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"dosesPerVaccinatorHour": worst},
            )
        )
    return found


def _hours(data: LedgerData, s: Sessions, holidays: Collection[date]) -> list[Finding]:
    frame = s.sessions.with_columns(
        _minute("end").alias("end_min"),
        pl.when(pl.col("start").is_not_null()).then(_minute("start")).alias("start_min"),
    )
    night = frame.filter(
        (pl.col("end_min") > DAY_ENDS)
        | (pl.col("end_min") < DAY_STARTS)
        | (pl.col("start_min") < DAY_STARTS)
    )
    found: list[Finding] = []
    for (site,), group in night.group_by("site"):
        hashes, indices = data.evidence(group["log_index"].to_list())
        found.append(
            Finding(
                kind="session_at_night",
                severity="medium",
                title=f"Sessions at night at {data.site_name(site)}",
                explanation=(
                    f"{group.height} session(s) at {data.site_name(site)} open before 06:00 or "
                    "close after 21:00 local time, when vaccination posts are not staffed."
                ),
                subject=(site,),
                locations=(str(site),),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
            )
        )
    if holidays:
        off = frame.filter(pl.col("local_day").is_in(list(holidays)))
        for (site,), group in off.group_by("site"):
            hashes, indices = data.evidence(group["log_index"].to_list())
            days = sorted({str(d) for d in group["local_day"].to_list()})
            found.append(
                Finding(
                    kind="session_on_holiday",
                    severity="low",
                    title=f"Sessions on public holidays at {data.site_name(site)}",
                    explanation=(
                        f"{group.height} session(s) at {data.site_name(site)} on "
                        f"{', '.join(days)}, public holidays of the configured calendar."
                    ),
                    subject=(site,),
                    locations=(str(site),),
                    parties=data.parties_of(indices),
                    events=hashes,
                    log_indices=indices,
                )
            )
    return found
