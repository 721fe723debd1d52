"""What the analysis reads from the ledger, as polars frames, in one read transaction.

Everything here follows ``docs/profile.md`` and nothing the simulator happens to do:

- the **covered prefix**: events with a log index below the newest checkpoint's size (so every
  finding can be proven against that checkpoint), or the whole log before the first checkpoint;
- events retracted by an EPCIS error declaration (EPCIS 2.0 §7.4.1.4) are left out, as are the
  declarations themselves;
- an event's **site** is its ``bizLocation``, else its ``readPoint``, walked up the location master
  data to the nearest element whose ``dt:siteType`` is a site type (profile §1, "Where");
- extension fields are matched by their namespace URI ``https://dosetrail.org/epcis/`` through each
  capture's prefix map, never by the literal prefix ``dt`` (profile §1, "Extensions"); values sent
  as text (the XML binding) are read as numbers where the profile says so.

Bulk columns come from ``event`` and ``event_epc``; event bodies are decoded only for the steps
whose extension fields an indicator needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dosetrail.epcis import hash_id_from_digest
from dosetrail.epcis.vocabulary import expand_field_value
from dosetrail.log.storage import latest_checkpoint, log_size
from dosetrail.profile import DT_NAMESPACE, STEP_SHAPES
from dosetrail.store.schema import capture, event, location, party

__all__ = [
    "AREA_TYPES",
    "DT_NAMESPACE",
    "SUB_LOCATION_TYPES",
    "Covered",
    "LedgerData",
    "as_float",
    "as_int",
    "load",
    "step_uri",
    "tallies",
]

AREA_TYPES = frozenset({"country", "province", "county"})
SUB_LOCATION_TYPES = frozenset({"cold_room", "fridge", "outreach_post"})
FACILITY_TYPES = frozenset({"county_hospital", "ri_clinic", "dong_clinic"})
STORE_TYPES = frozenset({"central_store", "provincial_store", "county_store"})

_STEPS = tuple(STEP_SHAPES)
_BODY_STEPS = (
    "commissioning",
    "shipping",
    "receiving",
    "dispensing",
    "destroying",
    "inspecting",
)


_DROP = frozenset({"epcList", "childEPCs", "quantityList", "@context", "readPoint", "bizLocation"})
"""Body members already in ``event`` / ``event_epc`` columns, dropped to save memory."""


def step_uri(name: str) -> str:
    """The CBV Web URI the ledger stores for bizStep ``name``."""
    return expand_field_value("bizStep", name)


_SHORT = {step_uri(s): s for s in _STEPS}


def as_int(value: Any) -> int | None:
    """An integer extension value, also when sent as text (XML binding)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def tallies(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``dt:administered`` tallies of a session body (profile §4)."""
    value = body.get("dt:administered")
    if isinstance(value, dict):
        value = [value]
    return [t for t in value or [] if isinstance(t, dict)] if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class Covered:
    """The log prefix an analysis covered: its size and (if checkpointed) its root hash."""

    size: int
    root: str | None
    events: int

    def as_json(self) -> dict[str, Any]:
        return {"logSize": self.size, "rootHash": self.root, "events": self.events}


@dataclass(slots=True)
class LedgerData:
    """Frames the indicators share. ``conn`` stays open for the SQL-side aggregates."""

    conn: Connection
    covered: Covered
    events: pl.DataFrame
    locations: pl.DataFrame
    bodies: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    _hash: dict[int, str] = field(default_factory=dict)

    def hash_id(self, log_index: int) -> str:
        return self._hash[log_index]

    def evidence(
        self, indices: Iterable[int], limit: int = 200
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """(hash IDs, log indices) of the events with ``indices``, in log order, at most
        ``limit`` of them (the first ones: a finding names its earliest evidence)."""
        chosen = sorted({int(i) for i in indices if int(i) in self._hash})[:limit]
        return tuple(self._hash[i] for i in chosen), tuple(chosen)

    def parties_of(self, indices: Iterable[int]) -> tuple[str, ...]:
        """The parties that recorded the events with ``indices``."""
        chosen = self.events.filter(pl.col("log_index").is_in([int(i) for i in indices]))
        return tuple(sorted({p for p in chosen["party"].to_list() if p}))

    def of_step(self, step: str) -> pl.DataFrame:
        return self.events.filter(pl.col("step") == step)

    def site_name(self, site: str | None) -> str:
        if site is None:
            return "an unknown place"
        hit = self.locations.filter(pl.col("id") == site)
        if hit.height and hit["name"][0]:
            return str(hit["name"][0])
        return site


def load(conn: Connection) -> LedgerData:
    """Read the covered prefix of the ledger: events, sites, master data, needed bodies."""
    checkpoint = latest_checkpoint(conn)
    if checkpoint is None:
        size, root = log_size(conn), None
    else:
        size, root = checkpoint[0], checkpoint[1].hex()
    locations = _locations(conn)
    events = _events(conn, size)
    events = _with_sites(events, locations)
    events = events.join(_recorders(conn), on="capture_id", how="left")
    hashes = dict(zip(events["log_index"].to_list(), events["hash_id"].to_list(), strict=True))
    data = LedgerData(conn, Covered(size, root, events.height), events, locations, _hash=hashes)
    data.bodies = _bodies(conn, events)
    return data


def _events(conn: Connection, size: int) -> pl.DataFrame:
    e = event
    retracted = sa.select(e.c.hash).where(e.c.declaration.is_(True), e.c.log_index < size)
    query = sa.select(
        e.c.log_index,
        e.c.hash,
        e.c.type,
        e.c.event_time,
        e.c.record_time,
        e.c.action,
        e.c.biz_step,
        e.c.disposition,
        e.c.read_point,
        e.c.biz_location,
        e.c.capture_id,
    ).where(
        e.c.log_index < size,
        e.c.declaration.is_(False),
        e.c.hash.not_in(retracted),
    )
    rows = conn.execute(query).fetchall()
    frame = pl.DataFrame(
        [
            (
                r[0],
                hash_id_from_digest(bytes(r[1])),
                r[2],
                r[3],
                r[4],
                r[5],
                _SHORT.get(r[6] or "", r[6]),
                r[7],
                r[8],
                r[9],
                r[10],
            )
            for r in rows
        ],
        schema={
            "log_index": pl.Int64,
            "hash_id": pl.String,
            "type": pl.String,
            "event_time": pl.Int64,
            "record_time": pl.Int64,
            "action": pl.String,
            "step": pl.String,
            "disposition": pl.String,
            "read_point": pl.String,
            "biz_location": pl.String,
            "capture_id": pl.Int64,
        },
        orient="row",
    )
    return frame.sort("log_index")


def _attribute(attributes: dict[str, Any], name: str) -> Any:
    """A master data attribute by its dosetrail or CBV local name, whatever the prefix."""
    for key, value in attributes.items():
        if key == DT_NAMESPACE + name or key.rsplit(":", 1)[-1] == name:
            return value
    return None


def _locations(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(
        sa.select(
            location.c.id,
            location.c.name,
            location.c.site_type,
            location.c.parent,
            location.c.attributes,
        )
    ).fetchall()
    parent = {r.id: r.parent for r in rows}
    kind = {r.id: r.site_type for r in rows}

    def up(start: str, wanted: frozenset[str] | None) -> str | None:
        node: str | None = start
        seen: set[str] = set()
        while node is not None and node not in seen:
            seen.add(node)
            t = kind.get(node)
            if (wanted is None and t and t not in SUB_LOCATION_TYPES | AREA_TYPES) or (
                wanted is not None and t in wanted
            ):
                return node
            node = parent.get(node)
        return None

    out = []
    for r in rows:
        attributes = orjson.loads(r.attributes or "{}")
        target = as_int(_attribute(attributes, "targetPopulation"))
        out.append(
            (
                r.id,
                r.name,
                r.site_type,
                r.parent,
                up(r.id, None),
                up(r.id, frozenset({"province"})),
                up(r.id, frozenset({"county"})),
                target,
                as_float(_attribute(attributes, "latitude")),
                as_float(_attribute(attributes, "longitude")),
            )
        )
    return pl.DataFrame(
        out,
        schema={
            "id": pl.String,
            "name": pl.String,
            "site_type": pl.String,
            "parent": pl.String,
            "site": pl.String,
            "province": pl.String,
            "county": pl.String,
            "target": pl.Int64,
            "lat": pl.Float64,
            "lon": pl.Float64,
        },
        orient="row",
    )


def _with_sites(events: pl.DataFrame, locations: pl.DataFrame) -> pl.DataFrame:
    """Add ``where`` (bizLocation, else readPoint) and ``site`` (its site in master data; the
    location itself when the master data does not know it)."""
    sites = locations.select(pl.col("id").alias("where"), pl.col("site").alias("_site"))
    framed = events.with_columns(pl.coalesce("biz_location", "read_point").alias("where"))
    framed = framed.join(sites, on="where", how="left")
    return framed.with_columns(pl.coalesce("_site", "where").alias("site")).drop("_site")


def _recorders(conn: Connection) -> pl.DataFrame:
    """capture id → the name of the party that signed it."""
    rows = conn.execute(
        sa.select(capture.c.id, party.c.name).join(party, party.c.id == capture.c.party_id)
    ).fetchall()
    return pl.DataFrame(rows, schema={"capture_id": pl.Int64, "party": pl.String}, orient="row")


def _dt_prefixes(conn: Connection) -> dict[int, frozenset[str]]:
    """Per capture, the prefixes bound to the dosetrail extension namespace."""
    out: dict[int, frozenset[str]] = {}
    for cid, namespaces in conn.execute(sa.select(capture.c.id, capture.c.namespaces)):
        mapping = orjson.loads(namespaces or "{}")
        out[int(cid)] = frozenset(p for p, uri in mapping.items() if uri == DT_NAMESPACE)
    return out


def canonical_extensions(value: Any, prefixes: frozenset[str]) -> Any:
    """``value`` with every dosetrail extension key renamed to ``dt:<local>`` (whatever prefix
    the capture bound to the namespace, or the full namespace IRI)."""
    if isinstance(value, list):
        return [canonical_extensions(v, prefixes) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, sub in value.items():
        name = key
        if key.startswith(DT_NAMESPACE):
            name = "dt:" + key[len(DT_NAMESPACE) :]
        else:
            prefix, sep, local = key.partition(":")
            if sep and prefix in prefixes:
                name = "dt:" + local
            elif sep and prefix == "dt" and "dt" not in prefixes:
                name = "?dt:" + local  # a `dt` prefix bound to some other namespace
        out[name] = canonical_extensions(sub, prefixes)
    return out


def _bodies(conn: Connection, events: pl.DataFrame) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    prefixes = _dt_prefixes(conn)
    wanted = events.filter(pl.col("step").is_in(_BODY_STEPS)).select(
        "log_index", "step", "capture_id"
    )
    step_of = dict(zip(wanted["log_index"].to_list(), wanted["step"].to_list(), strict=True))
    capture_of = dict(
        zip(wanted["log_index"].to_list(), wanted["capture_id"].to_list(), strict=True)
    )
    out: dict[str, list[tuple[int, dict[str, Any]]]] = {s: [] for s in _BODY_STEPS}
    for index, body in _fetch_bodies(conn, [step_uri(s) for s in _BODY_STEPS]):
        step = step_of.get(index)
        if step is None:
            continue
        raw = {k: v for k, v in orjson.loads(body).items() if k not in _DROP}
        bound = prefixes.get(capture_of[index], frozenset())
        if bound != frozenset({"dt"}):
            raw = canonical_extensions(raw, bound)
        out[step].append((index, raw))
    return out


def _fetch_bodies(conn: Connection, steps: list[str]) -> Iterator[tuple[int, bytes]]:
    query = sa.select(event.c.log_index, event.c.body).where(event.c.biz_step.in_(steps))
    result = conn.execute(query.execution_options(stream_results=True, yield_per=5000))
    for index, body in result:
        yield int(index), bytes(body)


def sensor_bodies(conn: Connection, data: LedgerData) -> Iterator[pl.DataFrame]:
    """Sensor report bodies in chunks: (log_index, prefix set id, body text)."""
    sensors = data.of_step("sensor_reporting")
    keep = set(sensors["log_index"].to_list())
    query = sa.select(event.c.log_index, event.c.body).where(
        event.c.biz_step == step_uri("sensor_reporting")
    )
    result = conn.execute(query.execution_options(stream_results=True, yield_per=20000))
    for part in result.partitions(20000):
        rows = [(int(i), bytes(b).decode()) for i, b in part if int(i) in keep]
        if rows:
            yield pl.DataFrame(
                rows, schema={"log_index": pl.Int64, "body": pl.String}, orient="row"
            )
