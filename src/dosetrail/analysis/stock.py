"""Stock reconciliation per site and lot, and wastage against WHO indicative rates.

Profile §3 ("Vial accounting"): per site and lot, in doses, received − shipped = administered +
open-vial waste + closed-vial waste + on hand, where every vial a session lists is consumed by it.
So the books say *expected on hand* = commissioned + received − shipped − opened − destroyed, and a
``cycle_counting`` event says what was counted. A difference is an unexplained gap; a running
balance below zero means a site shipped, used or destroyed what it never received.

Wastage. WHO's indicative maximum wastage rates for planning (WHO/V&B/03.18, *Monitoring vaccine
wastage at country level*, and the WHO indicative rates it tabulates): single-dose vials 5 %;
liquid vaccines in 2–6-dose vials 10 % and in 10–20-dose vials 25 %; lyophilised 10–20-dose
vials 50 %. Under the multi-dose vial policy (WHO/IVB/14.07) a vial that must be discarded at
the end of the session makes open-vial wastage depend on session size, which these rates allow
for. Closed-vial wastage (expiry, heat, freezing, breakage) has no WHO per-vial-size rate; the
1–2 % per supply-chain level often used in forecasting is far below the 5 % this module flags.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa

from dosetrail.analysis.contents import Contents
from dosetrail.analysis.findings import Finding, Severity
from dosetrail.analysis.ledgerdata import FACILITY_TYPES, LedgerData, as_int, step_uri
from dosetrail.store.epcs import Role
from dosetrail.store.schema import event, event_epc

__all__ = ["flows", "indicative_wastage", "stock_findings", "wastage_findings"]

_SIGN = {"commissioning": 1, "receiving": 1, "shipping": -1, "dispensing": -1, "destroying": -1}
CLOSED_VIAL_LIMIT = 0.05
"""Closed-vial wastage (other than expiry) above this share of doses received is flagged."""


def indicative_wastage(doses_per_vial: int) -> float:
    """WHO indicative maximum wastage rate for a liquid vaccine in vials of this size."""
    if doses_per_vial <= 1:
        return 0.05
    if doses_per_vial <= 6:
        return 0.10
    return 0.25


def flows(data: LedgerData, contents: Contents) -> pl.DataFrame:
    """Every custody movement: (event, step, site, party, time, lot, class, units, doses,
    signed units)."""
    moved = contents.moved.join(
        data.events.select(
            pl.col("log_index").alias("event"), "step", "site", "party", "event_time"
        ),
        on="event",
        how="inner",
    ).filter(pl.col("step").is_in(list(_SIGN)))
    dpv = pl.col("class_key").replace_strict(contents.dpv, default=0, return_dtype=pl.Int64)
    sign = pl.col("step").replace_strict(_SIGN, return_dtype=pl.Int64)
    return moved.with_columns(
        (pl.col("units") * dpv).alias("doses"), (pl.col("units") * sign).alias("signed")
    )


def _counts(data: LedgerData) -> pl.DataFrame:
    """Stock counts: (event, site, time, lot, class_key, units) from ``cycle_counting``."""
    query = (
        sa.select(event_epc.c.event, event_epc.c.epc, event_epc.c.class_key, event_epc.c.quantity)
        .join(event, event.c.log_index == event_epc.c.event)
        .where(
            event.c.biz_step == step_uri("cycle_counting"),
            event_epc.c.role == int(Role.QUANTITY),
            event.c.log_index < data.covered.size,
        )
    )
    rows = []
    for index, epc, key, quantity in data.conn.execute(query):
        lot = epc.split("/10/", 1)[1].split("/", 1)[0] if "/10/" in epc else None
        rows.append((int(index), lot, key, round(quantity or 0)))
    frame = pl.DataFrame(
        rows,
        schema={"event": pl.Int64, "lot": pl.String, "class_key": pl.String, "units": pl.Int64},
        orient="row",
    )
    return frame.join(
        data.events.select(pl.col("log_index").alias("event"), "site", "event_time", "party"),
        on="event",
        how="inner",
    )


def _severity(doses: float, received: float) -> Severity:
    if abs(doses) >= 100 or (received and abs(doses) >= 0.05 * received):
        return "high"
    return "medium" if abs(doses) >= 10 else "low"


def stock_findings(
    data: LedgerData, contents: Contents, moves: pl.DataFrame
) -> tuple[list[Finding], dict[str, Any]]:
    """``stock_gap`` and ``stock_negative`` findings, and the per-site balance table."""
    found: list[Finding] = []
    counts = _counts(data)
    dpv = contents.dpv
    latest = counts.group_by("site").agg(pl.col("event_time").max().alias("count_time"))
    received = (
        moves.filter(pl.col("step").is_in(["receiving", "commissioning"]))
        .group_by("site")
        .agg(pl.col("doses").sum().alias("received"))
    )
    received_by = dict(zip(received["site"].to_list(), received["received"].to_list(), strict=True))
    # books at the time of each site's last count
    books = (
        moves.join(latest, on="site", how="inner")
        .filter(pl.col("event_time") <= pl.col("count_time"))
        .group_by("site", "lot", "class_key")
        .agg(pl.col("signed").sum().alias("expected"))
    )
    last_counts = counts.join(latest, on="site").filter(
        pl.col("event_time") == pl.col("count_time")
    )
    counted = last_counts.group_by("site", "lot", "class_key").agg(
        pl.col("units").sum().alias("counted")
    )
    measured = set(dpv)
    table = (
        books.join(counted, on=["site", "lot", "class_key"], how="full", coalesce=True)
        .filter(pl.col("class_key").is_in(list(measured)) & pl.col("lot").is_not_null())
        .with_columns(pl.col("expected").fill_null(0), pl.col("counted").fill_null(0))
        .with_columns((pl.col("expected") - pl.col("counted")).alias("gap"))
        .with_columns(
            (
                pl.col("gap")
                * pl.col("class_key").replace_strict(dpv, default=0, return_dtype=pl.Int64)
            ).alias("gap_doses")
        )
    )
    count_events = last_counts.group_by("site").agg(pl.col("event").unique())
    count_event_of = {r[0]: list(r[1]) for r in count_events.iter_rows()}
    for site, group in table.filter(pl.col("gap") != 0).group_by("site"):
        name = str(site[0])
        missing = int(group["gap_doses"].sum())
        lots = ", ".join(
            f"{r['lot']} ({r['expected']} booked, {r['counted']} counted)"
            for r in group.sort("lot").iter_rows(named=True)
        )
        hashes, indices = data.evidence(count_event_of.get(name, []))
        direction = "missing from" if missing > 0 else "more on the shelf than in"
        found.append(
            Finding(
                kind="stock_gap",
                severity=_severity(missing, received_by.get(name, 0)),
                title=f"Stock count differs from the books at {data.site_name(name)}",
                explanation=(
                    f"By the ledger, {data.site_name(name)} should hold, per lot, what it "
                    f"received less what it shipped, opened in sessions and destroyed; its "
                    f"last stock count differs by {abs(missing):,} doses ({direction} the "
                    f"books): {lots}. Vials are unaccounted for, or were recorded as used "
                    "but kept."
                ),
                subject=(name,),
                locations=(name,),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"gapDoses": float(missing)},
            )
        )
    found += _negative(data, moves)
    balance = table.group_by("site").agg(
        pl.col("expected").sum(), pl.col("counted").sum(), pl.col("gap_doses").sum()
    )
    return found, {"balance": balance.to_dicts()}


def _negative(data: LedgerData, moves: pl.DataFrame) -> list[Finding]:
    """Running balance per site and lot, inflows first at equal times; below zero is a finding."""
    ordered = (
        moves.filter(pl.col("lot").is_not_null(), pl.col("doses") > 0)
        .sort(
            "site",
            "lot",
            "class_key",
            "event_time",
            pl.col("signed"),
            descending=[False, False, False, False, True],
        )
        .with_columns(pl.col("signed").cum_sum().over("site", "lot", "class_key").alias("balance"))
    )
    below = ordered.filter(pl.col("balance") < 0)
    found: list[Finding] = []
    for site, group in below.group_by("site"):
        name = str(site[0])
        first = (
            group.sort("event_time")
            .group_by("lot")
            .agg(pl.col("event").first(), pl.col("balance").min(), pl.col("step").first())
        )
        indices = first["event"].to_list()
        hashes, idx = data.evidence(indices)
        short = int(-first["balance"].sum())
        steps = ", ".join(sorted(set(first["step"].to_list())))
        found.append(
            Finding(
                kind="stock_negative",
                severity="high",
                title=f"{data.site_name(name)} used or shipped stock it never received",
                explanation=(
                    f"Following every receipt, shipment, session and destruction in time "
                    f"order, {data.site_name(name)}'s stock of lot(s) "
                    f"{', '.join(sorted(str(x) for x in first['lot'].to_list()))} falls below "
                    f"zero (by up to {short:,} vials) at {steps} events: it recorded using or "
                    "sending vials it had not received."
                ),
                subject=(name,),
                locations=(name,),
                parties=data.parties_of(idx),
                events=hashes,
                log_indices=idx,
                metrics={"shortVials": float(short)},
            )
        )
    return found


def wastage_findings(
    data: LedgerData, contents: Contents, moves: pl.DataFrame, alarmed_sites: set[str]
) -> list[Finding]:
    """Open-vial wastage above the WHO indicative rate, closed-vial wastage above 5 %."""
    found: list[Finding] = []
    site_type = dict(
        zip(data.locations["id"].to_list(), data.locations["site_type"].to_list(), strict=True)
    )
    sessions = data.of_step("dispensing").select(pl.col("log_index").alias("event"), "site")
    waste_rows = [
        (i, as_int(b.get("dt:openVialWaste")) or 0) for i, b in data.bodies.get("dispensing", [])
    ]
    waste = pl.DataFrame(
        waste_rows, schema={"event": pl.Int64, "waste": pl.Int64}, orient="row"
    ).join(sessions, on="event", how="inner")
    opened = (
        moves.filter(pl.col("step") == "dispensing")
        .group_by("event")
        .agg(pl.col("doses").sum(), pl.col("class_key").first())
    )
    per_site = (
        waste.join(opened, on="event", how="inner")
        .group_by("site")
        .agg(
            pl.col("waste").sum(),
            pl.col("doses").sum(),
            pl.col("class_key").first(),
            pl.col("event"),
            pl.len().alias("sessions"),
        )
        .filter(pl.col("doses") > 0, pl.col("sessions") >= 5)
    )
    for row in per_site.iter_rows(named=True):
        dpv = contents.dpv.get(row["class_key"] or "", 0)
        limit = indicative_wastage(dpv)
        rate = row["waste"] / row["doses"]
        if rate <= limit:
            continue
        hashes, indices = data.evidence(row["event"])
        site = row["site"]
        found.append(
            Finding(
                kind="open_vial_wastage",
                severity="medium",
                title=f"Open-vial wastage {rate:.0%} at {data.site_name(site)}",
                explanation=(
                    f"{data.site_name(site)} discarded {row['waste']:,} of {row['doses']:,} "
                    f"doses in opened {dpv}-dose vials ({rate:.1%}) over {row['sessions']} "
                    f"sessions, above the WHO indicative rate of {limit:.0%} for this vial "
                    "size (WHO/V&B/03.18). Doses may be leaving sessions unrecorded."
                ),
                subject=(site,),
                locations=(site,),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"rate": rate, "indicative": limit},
            )
        )
    reasons = {
        i: str(b.get("dt:wasteReason", "other")) for i, b in data.bodies.get("destroying", [])
    }
    destroyed = (
        moves.filter(pl.col("step") == "destroying")
        .with_columns(
            pl.col("event")
            .replace_strict(reasons, default="other", return_dtype=pl.String)
            .alias("reason")
        )
        .filter(pl.col("reason") != "expiry")
    )
    received = (
        moves.filter(pl.col("step").is_in(["receiving", "commissioning"]))
        .group_by("site")
        .agg(pl.col("doses").sum().alias("received"))
    )
    per_site = (
        destroyed.group_by("site")
        .agg(pl.col("doses").sum(), pl.col("event").unique(), pl.col("reason").unique())
        .join(received, on="site", how="left")
        .with_columns(pl.col("received").fill_null(0))
    )
    for row in per_site.iter_rows(named=True):
        got = row["received"] or 0
        if row["doses"] <= max(CLOSED_VIAL_LIMIT * got, 0) or row["doses"] < 50:
            continue
        site = row["site"]
        why = sorted(row["reason"])
        unsupported = {"heat", "freeze"} & set(why) and site not in alarmed_sites
        share = row["doses"] / got if got else 1.0
        hashes, indices = data.evidence(row["event"])
        note = (
            " The stated reason is temperature damage, yet the site's loggers recorded no "
            "heat or freeze alarm."
            if unsupported
            else ""
        )
        found.append(
            Finding(
                kind="closed_vial_wastage",
                severity="high" if unsupported or share >= 0.1 else "medium",
                title=f"{row['doses']:,} doses destroyed unopened at {data.site_name(site)}",
                explanation=(
                    f"{data.site_name(site)} ({site_type.get(site) or 'site'}) recorded "
                    f"{row['doses']:,} doses in closed vials destroyed for "
                    f"{', '.join(why)}: {share:.0%} of the {got:,} doses it received, against "
                    f"{CLOSED_VIAL_LIMIT:.0%} tolerated here.{note} Destruction records are a "
                    "common cover for diverted stock."
                ),
                subject=(site,),
                locations=(site,),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"doses": float(row["doses"]), "share": share},
            )
        )
    return found


def expiry_findings(data: LedgerData, contents: Contents, moves: pl.DataFrame) -> list[Finding]:
    """Sessions that opened vials of a lot past its expiry date (local date of the session)."""
    used = (
        moves.filter(pl.col("step") == "dispensing")
        .join(contents.lots, on="lot", how="inner")
        .filter(pl.col("expiry").is_not_null())
    )
    if used.height == 0:
        return []
    used = used.with_columns(
        pl.from_epoch("event_time", time_unit="us").dt.strftime("%Y-%m-%d").alias("day")
    ).filter(pl.col("day") > pl.col("expiry"))
    found: list[Finding] = []
    for site, group in used.group_by("site"):
        name = str(site[0])
        hashes, indices = data.evidence(group["event"].to_list())
        doses = int(group["doses"].sum())
        found.append(
            Finding(
                kind="expired_use",
                severity="high",
                title=f"Expired doses given at {data.site_name(name)}",
                explanation=(
                    f"{data.site_name(name)} opened {doses:,} doses of lot(s) "
                    f"{', '.join(sorted(set(group['lot'].to_list())))} after their expiry "
                    f"date ({', '.join(sorted(set(group['expiry'].to_list())))})."
                ),
                subject=(name,),
                locations=(name,),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"doses": float(doses)},
            )
        )
    return found


def is_facility(data: LedgerData, site: str) -> bool:
    hit = data.locations.filter(pl.col("id") == site)
    return bool(hit.height) and hit["site_type"][0] in FACILITY_TYPES
