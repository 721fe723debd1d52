"""What each custody event moved, in vials per lot, resolved through aggregation.

Profile §1 ("Containment"): a parent of an ``AggregationEvent`` ADD stands for all its children
until a DELETE with that parent; shipping, receiving and storing events may list the outermost
containers only. So the contents of a listed container at time *t* are those of its latest
aggregation ADD at or before *t*, unless a DELETE came in between, recursively.

The heavy part runs in the database: leaf identifiers (never a parent anywhere) are counted per
(event, commissioning event, product class) with one grouped SQL query, so the millions of vial
rows never leave the database; only container rows (cases, pallets: a few per shipment) are read
out and resolved here with polars as-of joins, level by level.

A vial's lot is the ``cbvmda:lotNumber`` of the ``ilmd`` of the event that commissioned it
(EPCIS 2.0 §7.3.6, instance/lot master data); doses per vial are inferred per product class from
the ledger itself (see :func:`doses_per_vial`), because product master data is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dosetrail.analysis.ledgerdata import LedgerData, as_int, step_uri, tallies
from dosetrail.store.epcs import Role
from dosetrail.store.schema import event, event_epc

__all__ = ["Contents", "contents", "doses_per_vial", "lots"]

_MAX_DEPTH = 6
_MOVES = ("commissioning", "shipping", "receiving", "dispensing", "destroying", "storing")


@dataclass(slots=True)
class Contents:
    """``moved``: (event, lot, class_key, units) for every custody event; ``lots``: lot → expiry;
    ``dpv``: product class → doses per vial."""

    moved: pl.DataFrame
    lots: pl.DataFrame
    dpv: dict[str, int]

    def doses(self, frame: pl.DataFrame, units: str = "units") -> pl.Expr:
        del frame
        mapping = pl.col("class_key").replace_strict(self.dpv, default=0, return_dtype=pl.Int64)
        return pl.col(units) * mapping


def lots(data: LedgerData) -> pl.DataFrame:
    """(commissioning event, lot, expiry date) from each commissioning event's ``ilmd``."""
    rows: list[tuple[int, str | None, str | None]] = []
    for index, body in data.bodies.get("commissioning", []):
        ilmd = body.get("ilmd") if isinstance(body.get("ilmd"), dict) else {}
        assert isinstance(ilmd, dict)
        lot = _ilmd(ilmd, "lotNumber")
        expiry = _ilmd(ilmd, "itemExpirationDate")
        rows.append((index, lot, expiry))
    return pl.DataFrame(
        rows, schema={"com": pl.Int64, "lot": pl.String, "expiry": pl.String}, orient="row"
    )


def _ilmd(ilmd: dict[str, Any], name: str) -> str | None:
    for key, value in ilmd.items():
        if key.rsplit(":", 1)[-1].rsplit("/", 1)[-1] == name and value is not None:
            return str(value)
    return None


def _commissioned_by() -> sa.ScalarSelect[Any]:
    """Correlated subquery: the first commissioning event naming ``x.epc``."""
    c = event_epc.alias("c")
    ce = event.alias("ce")
    return (
        sa.select(sa.func.min(c.c.event))
        .join(ce, ce.c.log_index == c.c.event)
        .where(
            c.c.epc == _X.c.epc,
            c.c.role == int(Role.EPC),
            ce.c.biz_step == step_uri("commissioning"),
        )
        .scalar_subquery()
    )


_X = event_epc.alias("x")


def _is_parent() -> sa.Exists:
    p = event_epc.alias("p")
    return sa.exists().where(p.c.epc == _X.c.epc, p.c.role == int(Role.PARENT))


def _wanted_events(size: int) -> sa.Select[Any]:
    e = event
    return sa.select(e.c.log_index).where(
        e.c.log_index < size,
        sa.or_(
            e.c.biz_step.in_([step_uri(s) for s in _MOVES]),
            sa.and_(e.c.type == "AggregationEvent", e.c.action == "ADD"),
        ),
    )


def _leaves(conn: Connection, size: int) -> pl.DataFrame:
    """Leaf identifiers counted per (event, role, commissioning event, class), in SQL."""
    inner = (
        sa.select(
            _X.c.event.label("event"),
            _X.c.role.label("role"),
            _X.c.class_key.label("class_key"),
            _commissioned_by().label("com"),
        )
        .where(
            _X.c.role.in_([int(Role.EPC), int(Role.CHILD)]),
            _X.c.event.in_(_wanted_events(size)),
            ~_is_parent(),
        )
        .subquery()
    )
    query = sa.select(
        inner.c.event, inner.c.role, inner.c.com, inner.c.class_key, sa.func.count()
    ).group_by(inner.c.event, inner.c.role, inner.c.com, inner.c.class_key)
    return pl.DataFrame(
        conn.execute(query).fetchall(),
        schema={
            "event": pl.Int64,
            "role": pl.Int64,
            "com": pl.Int64,
            "class_key": pl.String,
            "units": pl.Int64,
        },
        orient="row",
    )


def _containers(conn: Connection, size: int) -> pl.DataFrame:
    """Listed identifiers that are parents somewhere (cases, pallets): one row each."""
    query = sa.select(
        _X.c.event, _X.c.role, _X.c.epc, _X.c.class_key, _commissioned_by().label("com")
    ).where(
        _X.c.role.in_([int(Role.EPC), int(Role.CHILD)]),
        _X.c.event.in_(_wanted_events(size)),
        _is_parent(),
    )
    return pl.DataFrame(
        conn.execute(query).fetchall(),
        schema={
            "event": pl.Int64,
            "role": pl.Int64,
            "epc": pl.String,
            "class_key": pl.String,
            "com": pl.Int64,
        },
        orient="row",
    )


def _parents(conn: Connection, size: int) -> pl.DataFrame:
    """(aggregation event, parent) for every aggregation event."""
    query = sa.select(event_epc.c.event, event_epc.c.epc).where(
        event_epc.c.role == int(Role.PARENT), event_epc.c.event < size
    )
    return pl.DataFrame(
        conn.execute(query).fetchall(),
        schema={"agg": pl.Int64, "epc": pl.String},
        orient="row",
    )


def contents(data: LedgerData) -> Contents:
    """Resolve every custody event's contents to (lot, class, vials)."""
    conn, size = data.conn, data.covered.size
    times = data.events.select(
        pl.col("log_index"),
        pl.col("event_time"),
        pl.col("action"),
        pl.col("type"),
        pl.col("step"),
    )
    aggs = (
        _parents(conn, size)
        .join(times.rename({"log_index": "agg"}), on="agg", how="inner")
        .filter(pl.col("type") == "AggregationEvent")
        .select("epc", "agg", pl.col("event_time").alias("t_agg"), "action")
        .sort("t_agg", "agg")
    )
    leaves = _leaves(conn, size)
    containers = _containers(conn, size).join(
        times.select(pl.col("log_index").alias("event"), pl.col("event_time"), "step"),
        on="event",
        how="inner",
    )
    lot_table = lots(data)

    # contents of each ADD aggregation event, level by level
    base = leaves.filter(pl.col("role") == int(Role.CHILD)).select(
        pl.col("event").alias("agg"), "com", "class_key", "units"
    )
    child_edges = _resolve(
        containers.filter(pl.col("role") == int(Role.CHILD)).rename({"event": "agg_of"}),
        aggs,
    )
    content = base
    for _ in range(_MAX_DEPTH):
        nested = (
            child_edges.filter(pl.col("inside").is_not_null())
            .select("agg_of", "inside")
            .join(content, left_on="inside", right_on="agg", how="inner")
            .select(pl.col("agg_of").alias("agg"), "com", "class_key", "units")
        )
        unresolved = child_edges.filter(pl.col("inside").is_null()).select(
            pl.col("agg_of").alias("agg"), "com", "class_key", pl.lit(1, pl.Int64).alias("units")
        )
        updated = (
            pl.concat([base, nested, unresolved])
            .group_by("agg", "com", "class_key")
            .agg(pl.col("units").sum())
        )
        if updated.sort(pl.all()).equals(content.sort(pl.all())):
            break
        content = updated

    # what each custody event moved
    listed = containers.filter(pl.col("role") == int(Role.EPC))
    commissioned = listed.filter(pl.col("step") == "commissioning").select(
        "event", "com", "class_key", pl.lit(1, pl.Int64).alias("units")
    )
    rest = _resolve(
        listed.filter(pl.col("step") != "commissioning").rename({"event": "agg_of"}), aggs
    )
    through = (
        rest.filter(pl.col("inside").is_not_null())
        .select("agg_of", "inside")
        .join(content, left_on="inside", right_on="agg", how="inner")
        .select(pl.col("agg_of").alias("event"), "com", "class_key", "units")
    )
    itself = rest.filter(pl.col("inside").is_null()).select(
        pl.col("agg_of").alias("event"), "com", "class_key", pl.lit(1, pl.Int64).alias("units")
    )
    direct = leaves.filter(pl.col("role") == int(Role.EPC)).select(
        "event", "com", "class_key", "units"
    )
    moved = (
        pl.concat([direct, commissioned, through, itself])
        .join(lot_table.select("com", "lot"), on="com", how="left")
        .group_by("event", "lot", "class_key")
        .agg(pl.col("units").sum())
    )
    lot_expiry = (
        lot_table.filter(pl.col("lot").is_not_null()).group_by("lot").agg(pl.col("expiry").min())
    )
    return Contents(moved, lot_expiry, doses_per_vial(data, moved))


def _resolve(listed: pl.DataFrame, aggs: pl.DataFrame) -> pl.DataFrame:
    """For (agg_of, epc, event_time) rows: ``inside`` = the ADD aggregation whose contents the
    container stood for at that time (null when it was unpacked, or never packed)."""
    if listed.height == 0:
        return listed.with_columns(pl.lit(None, pl.Int64).alias("inside"))
    left = listed.sort("event_time")
    if "agg_of" in left.columns and "event_time" not in left.columns:
        raise ValueError("listed rows need their event time")
    joined = left.join_asof(
        aggs.sort("t_agg"),
        left_on="event_time",
        right_on="t_agg",
        by="epc",
        strategy="backward",
        check_sortedness=False,
    )
    # the aggregation event itself is not its own contents
    joined = joined.with_columns(
        pl.when((pl.col("action") == "ADD") & (pl.col("agg") != pl.col("agg_of")))
        .then(pl.col("agg"))
        .otherwise(None)
        .alias("inside")
    )
    return joined.select("agg_of", "epc", "class_key", "com", "inside")


def doses_per_vial(data: LedgerData, moved: pl.DataFrame) -> dict[str, int]:
    """Doses per vial for each product class, from the ledger alone.

    Profile §3: each session satisfies Σ ``dt:administered`` + ``dt:openVialWaste`` = vials ×
    ``dt:dosesPerVial``, and ``dt:wastedDoses`` = vials × ``dt:dosesPerVial``; the most common
    ratio over all sessions and destructions of one product class is its dose count (a few
    falsified sessions cannot move a mode).
    """
    totals: dict[int, int] = {}
    for index, body in data.bodies.get("dispensing", []):
        given = sum(as_int(t.get("dt:count")) or 0 for t in tallies(body))
        totals[index] = given + (as_int(body.get("dt:openVialWaste")) or 0)
    for index, body in data.bodies.get("destroying", []):
        wasted = as_int(body.get("dt:wastedDoses"))
        if wasted is not None:
            totals[index] = wasted
    if not totals:
        return {}
    frame = pl.DataFrame(
        list(totals.items()), schema={"event": pl.Int64, "doses": pl.Int64}, orient="row"
    )
    per_event = moved.group_by("event").agg(
        pl.col("units").sum(),
        pl.col("class_key").first(),
        pl.col("class_key").n_unique().alias("classes"),
    )
    joined = (
        per_event.filter(pl.col("classes") == 1, pl.col("units") > 0)
        .join(frame, on="event", how="inner")
        .filter(pl.col("doses") % pl.col("units") == 0)
        .with_columns((pl.col("doses") // pl.col("units")).alias("dpv"))
    )
    out: dict[str, int] = {}
    for key, group in joined.group_by("class_key"):
        mode = group["dpv"].mode().sort()
        if mode.len() and key[0] is not None:
            out[str(key[0])] = int(mode[-1])
    return out
