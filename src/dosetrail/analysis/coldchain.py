"""Cold chain: temperature alarms, logger gaps, VVM consistency and exposed doses.

Alarm rules are those of WHO's 30-day electronic temperature recorders (30-DTR, PQS
specification WHO/PQS/E006/TR06; alarm settings as described in *How to monitor temperatures in
the vaccine supply chain*, WHO/IVB/15.04):

- **heat alarm**: above +8 °C for 10 hours *continuously* (a single event, not a cumulative
  total);
- **freeze alarm**: at or below −0.5 °C for 60 minutes, continuously.

We checked that both are single-event (uninterrupted) rules: PQS-qualified 30-DTRs such as
Berlinger's Fridge-tag 2 document their alarm trigger as "based on a single event" with the
example limit "< −0.5 °C, duration > 1 hour", and WHO's Q-tag guidance distinguishes such
single-event limits from the cumulative ones of shipping indicators (≥ 30 °C for 10 h
cumulative). Readings are those of profile §3: one ``sensor_reporting`` event per logger per day,
``dt:readingIntervalMinutes`` apart, so a missing reading is visible; a gap of an hour or more
while the site held stock is reported, since a breach hidden by deleting readings leaves nothing
else.

Heat exposure is summarised as degree-hours above +8 °C; VVM readings of stage 1–2 after an
exposure of 150 degree-hours or more (e.g. 10 h at +23 °C) are flagged as inconsistent: a
heuristic (VVM kinetics depend on the VVM category, which the product master data would give),
so only at low severity.

**Containment**: for each alarm or gap at a site, the doses the site held then (its books per
lot, resolved through aggregation) and every later session that opened those lots, there or at
the sites it shipped them to, are listed as exposed.
"""

from __future__ import annotations

import re

import orjson
import polars as pl
import sqlalchemy as sa

from dosetrail.analysis.findings import Finding
from dosetrail.analysis.ledgerdata import DT_NAMESPACE, LedgerData, as_int, sensor_bodies
from dosetrail.store.schema import capture

__all__ = [
    "FREEZE_C",
    "FREEZE_MINUTES",
    "HEAT_C",
    "HEAT_HOURS",
    "alarms",
    "coldchain_findings",
    "readings",
]

HEAT_C = 8.0
HEAT_HOURS = 10.0
FREEZE_C = -0.5
FREEZE_MINUTES = 60.0
GAP_MINUTES = 60.0
VVM_DEGREE_HOURS = 150.0
_US_MIN = 60_000_000

_SENSOR = pl.Struct(
    {
        "sensorElementList": pl.List(
            pl.Struct(
                {
                    "sensorMetadata": pl.Struct({"deviceID": pl.String}),
                    "sensorReport": pl.List(
                        pl.Struct({"type": pl.String, "time": pl.String, "value": pl.String})
                    ),
                }
            )
        )
    }
)


def _interval_patterns(data: LedgerData) -> dict[int, str]:
    """capture id → regex finding its ``readingIntervalMinutes`` extension, by its prefixes."""
    out: dict[int, str] = {}
    for cid, namespaces in data.conn.execute(sa.select(capture.c.id, capture.c.namespaces)):
        bound = [p for p, uri in orjson.loads(namespaces or "{}").items() if uri == DT_NAMESPACE]
        names = [re.escape(f"{p}:readingIntervalMinutes") for p in bound]
        names.append(re.escape(DT_NAMESPACE + "readingIntervalMinutes"))
        out[int(cid)] = r'"(?:' + "|".join(names) + r')"\s*:\s*"?(\d+)'
    return out


def readings(data: LedgerData) -> pl.DataFrame:
    """Every temperature reading: (log_index, device, site, time µs, value °C, interval min)."""
    events = data.of_step("sensor_reporting").select("log_index", "site", "capture_id")
    patterns = _interval_patterns(data)
    parts: list[pl.DataFrame] = []
    for chunk in sensor_bodies(data.conn, data):
        chunk = chunk.join(events, on="log_index", how="inner")
        intervals = []
        for (cid,), group in chunk.group_by("capture_id"):
            pattern = patterns.get(int(cid or 0), r'"[^"]*readingIntervalMinutes"\s*:\s*"?(\d+)')
            intervals.append(
                group.select(
                    "log_index",
                    pl.col("body").str.extract(pattern, 1).cast(pl.Int64).alias("interval"),
                )
            )
        decoded = (
            chunk.with_columns(pl.col("body").str.json_decode(_SENSOR).alias("s"))
            .select("log_index", "site", pl.col("s").struct.field("sensorElementList"))
            .explode("sensorElementList")
            .unnest("sensorElementList")
            .with_columns(pl.col("sensorMetadata").struct.field("deviceID").alias("device"))
            .explode("sensorReport")
            .unnest("sensorReport")
            .filter(pl.col("type").str.ends_with("Temperature"))
            .select(
                "log_index",
                "device",
                "site",
                pl.col("time")
                .str.replace(r"[Zz]$", "+00:00")
                .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", time_unit="us", strict=False)
                .dt.epoch("us")
                .alias("time"),
                pl.col("value").cast(pl.Float64, strict=False).alias("value"),
            )
            .filter(pl.col("time").is_not_null(), pl.col("value").is_not_null())
        )
        if intervals:
            decoded = decoded.join(pl.concat(intervals), on="log_index", how="left")
        else:
            decoded = decoded.with_columns(pl.lit(None, pl.Int64).alias("interval"))
        parts.append(decoded)
    if not parts:
        return pl.DataFrame(
            schema={
                "log_index": pl.Int64,
                "device": pl.String,
                "site": pl.String,
                "time": pl.Int64,
                "value": pl.Float64,
                "interval": pl.Int64,
            }
        )
    out = pl.concat(parts).sort("device", "time")
    # a missing interval: the device's usual spacing
    spacing = (
        out.with_columns(((pl.col("time").diff().over("device")) // _US_MIN).alias("d"))
        .group_by("device")
        .agg(pl.col("d").median().alias("typical"))
    )
    return (
        out.join(spacing, on="device", how="left")
        .with_columns(
            pl.coalesce("interval", pl.col("typical").cast(pl.Int64), pl.lit(15)).alias("interval")
        )
        .drop("typical")
    )


def alarms(frame: pl.DataFrame) -> pl.DataFrame:
    """Runs of readings above +8 °C / at or below −0.5 °C, with their continuous duration.

    A run ends at the first reading back in range or at a gap (unknown temperatures do not
    extend an alarm). Returns (device, site, kind, start, end, minutes, peak, degree_hours,
    events).
    """
    if frame.height == 0:
        return pl.DataFrame()
    step = pl.col("interval") * _US_MIN
    marked = frame.with_columns(
        pl.when(pl.col("value") > HEAT_C)
        .then(pl.lit("heat"))
        .when(pl.col("value") <= FREEZE_C)
        .then(pl.lit("freeze"))
        .otherwise(pl.lit(None))
        .alias("kind"),
        (pl.col("time").diff().over("device") > 2 * step).fill_null(True).alias("broken"),
    )
    marked = marked.with_columns(
        (
            (pl.col("kind") != pl.col("kind").shift().over("device")).fill_null(True)
            | pl.col("kind").is_null()
            | pl.col("broken")
        )
        .cum_sum()
        .over("device")
        .alias("run")
    )
    runs = (
        marked.filter(pl.col("kind").is_not_null())
        .group_by("device", "run")
        .agg(
            pl.col("site").first(),
            pl.col("kind").first(),
            pl.col("time").min().alias("start"),
            (pl.col("time").max() + step.first()).alias("end"),
            pl.col("value").max().alias("hot"),
            pl.col("value").min().alias("cold"),
            ((pl.col("value") - HEAT_C).clip(0) * pl.col("interval") / 60)
            .sum()
            .alias("degree_hours"),
            pl.col("log_index").unique().alias("events"),
        )
        .with_columns(((pl.col("end") - pl.col("start")) / _US_MIN).alias("minutes"))
    )
    return runs.filter(
        ((pl.col("kind") == "heat") & (pl.col("minutes") >= HEAT_HOURS * 60))
        | ((pl.col("kind") == "freeze") & (pl.col("minutes") >= FREEZE_MINUTES))
    )


def gaps(frame: pl.DataFrame) -> pl.DataFrame:
    """Missing readings of an hour or more between two readings of the same logger."""
    if frame.height == 0:
        return pl.DataFrame()
    return (
        frame.with_columns(
            pl.col("time").shift(-1).over("device").alias("next"),
            pl.col("log_index").shift(-1).over("device").alias("next_event"),
        )
        .with_columns(
            ((pl.col("next") - pl.col("time")) / _US_MIN - pl.col("interval")).alias("missing")
        )
        .filter(pl.col("missing") >= GAP_MINUTES)
        .select("device", "site", "log_index", "next_event", "time", "next", "missing")
    )


def _held(moves: pl.DataFrame, site: str, when: int) -> pl.DataFrame:
    """Doses per lot the books say ``site`` held at time ``when``."""
    return (
        moves.filter(pl.col("site") == site, pl.col("event_time") <= when)
        .with_columns((pl.col("signed") * pl.col("doses") / pl.col("units")).alias("d"))
        .group_by("lot")
        .agg(pl.col("d").sum().alias("held"))
        .filter(pl.col("held") > 0)
    )


def _exposed(
    data: LedgerData, moves: pl.DataFrame, site: str, start: int
) -> tuple[float, list[int], set[str]]:
    """(doses held at ``start``, later sessions opening those lots, sites they reached)."""
    held = _held(moves, site, start)
    if held.height == 0:
        return 0.0, [], set()
    lots = held["lot"].to_list()
    later = moves.filter(pl.col("event_time") >= start, pl.col("lot").is_in(lots))
    places = {site}
    shipped = later.filter(pl.col("site") == site, pl.col("step") == "shipping")
    if shipped.height:
        reached = (
            later.filter(pl.col("step") == "receiving", pl.col("event_time") >= start)["site"]
            .unique()
            .to_list()
        )
        places |= {s for s in reached if s}
    sessions = later.filter(pl.col("step") == "dispensing", pl.col("site").is_in(list(places)))
    return float(held["held"].sum()), sessions["event"].unique().to_list(), places


def coldchain_findings(
    data: LedgerData, moves: pl.DataFrame
) -> tuple[list[Finding], set[str], dict[str, object]]:
    """Findings, the sites with an alarm, and the timelines table for the report."""
    frame = readings(data)
    found: list[Finding] = []
    alarmed: set[str] = set()
    name = data.site_name
    runs = alarms(frame)
    for row in runs.iter_rows(named=True) if runs.height else []:
        site = row["site"]
        hours = row["minutes"] / 60
        heat = row["kind"] == "heat"
        if site:
            alarmed.add(site)
        hashes, indices = data.evidence(row["events"])
        found.append(
            Finding(
                kind="heat_alarm" if heat else "freeze_alarm",
                severity="high",
                title=(
                    f"{'Heat' if heat else 'Freeze'} alarm at {name(site)} "
                    f"({hours:.1f} h, {'peak' if heat else 'low'} "
                    f"{row['hot'] if heat else row['cold']:.1f} °C)"
                ),
                explanation=(
                    f"Logger {row['device']} recorded "
                    + (
                        f"above +{HEAT_C:g} °C for {hours:.1f} hours without interruption "
                        f"({row['degree_hours']:.0f} degree-hours above +8 °C)"
                        if heat
                        else f"at or below {FREEZE_C:g} °C for {row['minutes']:.0f} minutes"
                    )
                    + ": a WHO 30-day temperature recorder would have raised an alarm. Doses "
                    "stored there may be damaged."
                ),
                subject=(row["device"], row["kind"], row["start"]),
                locations=(site,) if site else (),
                parties=data.parties_of(indices),
                epcs=(row["device"],),
                events=hashes,
                log_indices=indices,
                metrics={"hours": hours, "degreeHours": row["degree_hours"]},
            )
        )
        if site:
            found += _exposure(data, moves, site, row["start"], why="alarm", device=row["device"])
    holes = gaps(frame)
    for row in holes.iter_rows(named=True) if holes.height else []:
        site = row["site"]
        if site is None:
            continue
        held = _held(moves, site, row["time"])
        if held.height == 0 or _held(moves, site, row["next"] - 1).height == 0:
            continue  # nothing to guard: a logger may rest while the site is (being) emptied
        hours = row["missing"] / 60
        hashes, indices = data.evidence([row["log_index"], row["next_event"]])
        found.append(
            Finding(
                kind="logger_gap",
                severity="high" if hours >= HEAT_HOURS else "medium",
                title=f"{hours:.1f} h of temperature readings missing at {name(site)}",
                explanation=(
                    f"Logger {row['device']} has no readings for {hours:.1f} hours while "
                    f"{name(site)} held {held['held'].sum():,.0f} doses. A gap this long can "
                    "hide a heat or freeze alarm; the stock's condition is unknown."
                ),
                subject=(row["device"], "gap", row["time"]),
                locations=(site,),
                parties=data.parties_of(indices),
                epcs=(row["device"],),
                events=hashes,
                log_indices=indices,
                metrics={"hours": hours},
            )
        )
        found += _exposure(data, moves, site, row["time"], why="gap", device=row["device"])
    found += _vvm(data, runs)
    timeline = (
        frame.with_columns((pl.col("time") // 3_600_000_000).alias("hour"))
        .group_by("device", "site", "hour")
        .agg(pl.col("value").max().alias("max"), pl.col("value").min().alias("min"))
        .sort("device", "hour")
        if frame.height
        else pl.DataFrame()
    )
    return found, alarmed, {"timeline": timeline}


def _exposure(
    data: LedgerData, moves: pl.DataFrame, site: str, start: int, *, why: str, device: str
) -> list[Finding]:
    doses, sessions, places = _exposed(data, moves, site, start)
    if not sessions:
        return []
    hashes, indices = data.evidence(sessions)
    what = "a temperature alarm" if why == "alarm" else "a gap in temperature records"
    return [
        Finding(
            kind="exposed_doses",
            severity="medium",
            title=f"{len(sessions)} sessions used stock exposed at {data.site_name(site)}",
            explanation=(
                f"When logger {device} showed {what}, {data.site_name(site)} held "
                f"{doses:,.0f} doses. {len(sessions)} later sessions at {len(places)} site(s) "
                "opened vials of the same lots (traced through cases and pallets): their "
                "recipients may have received damaged vaccine."
            ),
            subject=(site, device, why, start),
            locations=tuple(sorted(places)),
            parties=data.parties_of(indices),
            events=hashes,
            log_indices=indices,
            metrics={"heldDoses": doses, "sessions": float(len(sessions))},
        )
    ]


def _vvm(data: LedgerData, runs: pl.DataFrame) -> list[Finding]:
    if runs.height == 0:
        return []
    hot = runs.filter(
        pl.col("kind") == "heat",
        pl.col("degree_hours") >= VVM_DEGREE_HOURS,
        pl.col("site").is_not_null(),
    )
    readings_after = [
        (i, as_int(b.get("dt:vvmStage")))
        for i, b in data.bodies.get("inspecting", [])
        if as_int(b.get("dt:vvmStage")) is not None
    ]
    if hot.height == 0 or not readings_after:
        return []
    vvm = pl.DataFrame(
        readings_after, schema={"log_index": pl.Int64, "stage": pl.Int64}, orient="row"
    ).join(data.events.select("log_index", "site", "event_time"), on="log_index")
    found: list[Finding] = []
    for row in hot.iter_rows(named=True):
        calm = vvm.filter(
            pl.col("site") == row["site"], pl.col("event_time") > row["end"], pl.col("stage") <= 2
        )
        if calm.height == 0:
            continue
        hashes, indices = data.evidence(calm["log_index"].to_list())
        found.append(
            Finding(
                kind="vvm_inconsistent",
                severity="low",
                title=f"VVM readings at {data.site_name(row['site'])} ignore a heat alarm",
                explanation=(
                    f"After {row['degree_hours']:.0f} degree-hours above +8 °C, "
                    f"{data.site_name(row['site'])} kept reporting VVM stage 1–2 "
                    f"({calm.height} readings). Heat of that size usually advances a vial "
                    "monitor; the readings deserve a check."
                ),
                subject=(row["site"], row["device"], row["start"]),
                locations=(row["site"],),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
            )
        )
    return found
