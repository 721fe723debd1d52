"""Shipments against receipts, joined by the sender's despatch advice (profile §3).

Each move is a ``shipping`` event by the sender and a ``receiving`` event by the receiver, both
carrying the sender's ``desadv`` in ``bizTransactionList`` and the same source and destination
lists. Comparing the two, in doses resolved through aggregation, shows shipments never received,
receipts no shipment explains, short or excess receipts, receipts somewhere else than the
destination, destinations missing from the master data, and receipts dated before the shipment.
Diverted stock leaves exactly these traces when it is covered as "short in transit".
"""

from __future__ import annotations

from typing import Any

import polars as pl

from dosetrail.analysis.findings import Finding
from dosetrail.analysis.ledgerdata import LedgerData
from dosetrail.epcis.identifiers import normalise_epc

__all__ = ["shipment_findings"]

_GRACE_US = 7 * 86_400_000_000
"""A shipment younger than this at the end of the covered log may still be in transit."""


def _number(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _desadv(body: dict[str, Any]) -> str | None:
    for item in body.get("bizTransactionList") or []:
        if isinstance(item, dict) and str(item.get("type", "")).endswith("desadv"):
            value = item.get("bizTransaction")
            return str(value) if value else None
    return None


def _destination(body: dict[str, Any]) -> str | None:
    for item in body.get("destinationList") or []:
        if isinstance(item, dict) and str(item.get("type", "")).endswith("location"):
            value = item.get("destination")
            return normalise_epc(str(value)) if value else None
    return None


def _frame(data: LedgerData, step: str) -> pl.DataFrame:
    rows = [(index, _desadv(body), _destination(body)) for index, body in data.bodies.get(step, [])]
    return pl.DataFrame(
        rows,
        schema={"event": pl.Int64, "desadv": pl.String, "destination": pl.String},
        orient="row",
    ).join(
        data.events.select(pl.col("log_index").alias("event"), "site", "event_time"),
        on="event",
        how="inner",
    )


def shipment_findings(data: LedgerData, moves: pl.DataFrame) -> list[Finding]:
    doses = moves.group_by("event").agg(pl.col("doses").sum(), pl.col("units").sum())
    ships = (
        _frame(data, "shipping")
        .join(doses, on="event", how="left")
        .with_columns(pl.col("doses").fill_null(0), pl.col("units").fill_null(0))
    )
    receipts = (
        _frame(data, "receiving")
        .join(doses, on="event", how="left")
        .with_columns(pl.col("doses").fill_null(0), pl.col("units").fill_null(0))
    )
    sites = data.locations.filter(pl.col("site") == pl.col("id"))["id"].to_list()
    registered = set(sites)
    end = _number(data.events["record_time"].max()) if data.events.height else 0
    found: list[Finding] = []
    sent = ships.group_by("desadv").agg(
        pl.col("event"),
        pl.col("doses").sum(),
        pl.col("units").sum(),
        pl.col("site").first(),
        pl.col("destination").first(),
        pl.col("event_time").min(),
    )
    got = receipts.group_by("desadv").agg(
        pl.col("event").alias("r_event"),
        pl.col("doses").sum().alias("r_doses"),
        pl.col("units").sum().alias("r_units"),
        pl.col("site").first().alias("r_site"),
        pl.col("event_time").min().alias("r_time"),
    )
    both = sent.join(got, on="desadv", how="full", coalesce=True)
    for row in both.iter_rows(named=True):
        found += _compare(data, row, end, registered)
    return found


def _compare(
    data: LedgerData, row: dict[str, Any], end: int, registered: set[str]
) -> list[Finding]:
    out: list[Finding] = []
    desadv = row["desadv"]
    name = data.site_name
    if row["event"] is None:
        hashes, indices = data.evidence(row["r_event"])
        out.append(
            Finding(
                kind="receipt_without_shipment",
                severity="high",
                title=f"{name(row['r_site'])} received stock no shipment explains",
                explanation=(
                    f"{name(row['r_site'])} recorded receiving {row['r_doses']:,} doses under "
                    f"despatch advice {desadv or '(none)'}, but no shipping event carries that "
                    "despatch advice: the stock's origin is not in the ledger."
                ),
                subject=(row["r_site"], desadv),
                locations=(row["r_site"],),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"doses": float(row["r_doses"])},
            )
        )
        return out
    source, destination = row["site"], row["destination"]
    evidence = list(row["event"]) + list(row["r_event"] or [])
    hashes, indices = data.evidence(evidence)
    base: dict[str, Any] = {
        "locations": tuple(x for x in (source, destination, row["r_site"]) if x),
        "parties": data.parties_of(indices),
        "events": hashes,
        "log_indices": indices,
    }
    if destination is not None and destination not in registered:
        out.append(
            Finding(
                kind="unregistered_destination",
                severity="high",
                title=f"{name(source)} shipped to a location that is not a registered site",
                explanation=(
                    f"{name(source)} shipped {row['doses']:,} doses ({desadv}) to {destination}, "
                    "which the location master data does not list as a site: the stock left "
                    "the registered supply chain."
                ),
                subject=(desadv, destination),
                metrics={"doses": float(row["doses"])},
                **base,
            )
        )
    if row["r_event"] is None:
        if row["event_time"] + _GRACE_US < end:
            out.append(
                Finding(
                    kind="shipment_not_received",
                    severity="high",
                    title=f"Shipment {desadv} from {name(source)} never received",
                    explanation=(
                        f"{name(source)} shipped {row['doses']:,} doses to "
                        f"{name(destination)} under {desadv}; no receipt was recorded in the "
                        "week after, nor since."
                    ),
                    subject=(desadv,),
                    metrics={"doses": float(row["doses"])},
                    **base,
                )
            )
        return out
    short = row["doses"] - row["r_doses"]
    missing = row["units"] - row["r_units"]
    if missing > 0:
        out.append(
            Finding(
                kind="receipt_short",
                severity="high",
                title=f"{name(row['r_site'])} received {missing:,} vials fewer than shipped",
                explanation=(
                    f"{name(source)} shipped {row['units']:,} vials ({row['doses']:,} doses) "
                    f"under {desadv}; {name(row['r_site'])} recorded receiving "
                    f"{row['r_units']:,} ({row['r_doses']:,} doses). The missing {missing:,} "
                    "vials are on no later record: lost in transit, or diverted and covered as "
                    "a short delivery."
                ),
                subject=(desadv,),
                metrics={"vials": float(missing), "doses": float(short)},
                **base,
            )
        )
    elif missing < 0:
        out.append(
            Finding(
                kind="receipt_over",
                severity="medium",
                title=f"{name(row['r_site'])} received more than was shipped",
                explanation=(
                    f"{name(row['r_site'])} recorded {row['r_doses']:,} doses under {desadv}, "
                    f"{-short:,} more than {name(source)} shipped."
                ),
                subject=(desadv,),
                metrics={"doses": float(-short)},
                **base,
            )
        )
    if destination is not None and row["r_site"] != destination:
        out.append(
            Finding(
                kind="receipt_misdirected",
                severity="high",
                title=f"Shipment {desadv} received at {name(row['r_site'])}, not its destination",
                explanation=(
                    f"{name(source)} shipped {desadv} to {name(destination)}, but it was "
                    f"received at {name(row['r_site'])}."
                ),
                subject=(desadv, row["r_site"]),
                **base,
            )
        )
    if row["r_time"] < row["event_time"]:
        out.append(
            Finding(
                kind="out_of_order",
                severity="medium",
                title=f"Shipment {desadv} received before it was shipped",
                explanation=(
                    f"{name(row['r_site'])} dated its receipt of {desadv} before "
                    f"{name(source)} dated the shipment: one of the two times is wrong."
                ),
                subject=(desadv, "received-before-shipped"),
                **base,
            )
        )
    return out
