"""Vaccination sessions as frames: one row per session, one per tally (profile §3–4).

A session is a ``dispensing`` event: ``eventTime`` is when it closed, ``dt:sessionStart`` when it
opened, ``dt:vaccinators`` who worked it, ``dt:administered`` its tallies by age group and dose
number, ``dt:openVialWaste`` the doses discarded. Local times use the event's own
``eventTimeZoneOffset``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dosetrail.analysis.ledgerdata import LedgerData, as_int, tallies
from dosetrail.epcis.timestamps import parse_offset, parse_time, to_micros

__all__ = ["Sessions", "sessions"]


@dataclass(frozen=True, slots=True)
class Sessions:
    """``sessions``: log_index, session_id, site, post, start, end (µs UTC), offset (minutes),
    vaccinators, total, waste, record_time; ``tallies``: log_index, site, age, dose, count."""

    sessions: pl.DataFrame
    tallies: pl.DataFrame


def sessions(data: LedgerData) -> Sessions:
    rows = []
    tally_rows = []
    for index, body in data.bodies.get("dispensing", []):
        start = body.get("dt:sessionStart")
        try:
            opened = to_micros(parse_time(str(start))[0]) if start else None
        except ValueError:
            opened = None
        try:
            offset = parse_offset(str(body.get("eventTimeZoneOffset", "+00:00")))
        except ValueError:
            offset = 0
        total = 0
        for t in tallies(body):
            count = as_int(t.get("dt:count")) or 0
            total += count
            tally_rows.append(
                (index, str(t.get("dt:ageGroup", "?")), as_int(t.get("dt:doseNumber")) or 1, count)
            )
        rows.append(
            (
                index,
                str(body.get("dt:sessionID", "")),
                opened,
                offset,
                as_int(body.get("dt:vaccinators")),
                total,
                as_int(body.get("dt:openVialWaste")) or 0,
            )
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "log_index": pl.Int64,
            "session_id": pl.String,
            "start": pl.Int64,
            "offset": pl.Int64,
            "vaccinators": pl.Int64,
            "total": pl.Int64,
            "waste": pl.Int64,
        },
        orient="row",
    ).join(
        data.events.select(
            "log_index",
            "site",
            pl.col("read_point").alias("post"),
            pl.col("event_time").alias("end"),
            "record_time",
            "party",
        ),
        on="log_index",
        how="inner",
    )
    frame = frame.with_columns(
        pl.from_epoch(pl.col("end") + pl.col("offset") * 60_000_000, time_unit="us")
        .dt.date()
        .alias("local_day")
    )
    tally = pl.DataFrame(
        tally_rows,
        schema={"log_index": pl.Int64, "age": pl.String, "dose": pl.Int64, "count": pl.Int64},
        orient="row",
    ).join(frame.select("log_index", "site"), on="log_index", how="inner")
    return Sessions(frame, tally)
