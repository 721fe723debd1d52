"""Chain of custody of one vial, case or pallet, through aggregation and disaggregation.

An object's own events are those that name it; while it is packed in a case or on a pallet
(from the ``AggregationEvent`` ADD that put it there until the DELETE that took it out, or the
parent's disaggregate-all), the container's events are its events too, recursively. Every step
carries its log index, so each one can be proven against a checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.store.epcs import Role
from dosetrail.store.schema import event, event_epc, location

__all__ = ["Step", "trace"]

_FOREVER = 1 << 62
_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Step:
    """One custody step: the event, where, and which object it reached ours through."""

    log_index: int
    event_time: int
    event_type: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    location: str | None
    location_name: str | None
    via: str  # the identifier the event names: ours, or a container's

    def as_json(self) -> dict[str, Any]:
        return {
            "logIndex": self.log_index,
            "eventTime": self.event_time,
            "type": self.event_type,
            "action": self.action,
            "bizStep": self.biz_step,
            "disposition": self.disposition,
            "location": self.location,
            "locationName": self.location_name,
            "via": self.via,
        }


def _events_of(conn: Connection, epc: str, start: int, end: int) -> Sequence[Any]:
    return conn.execute(
        sa.select(
            event.c.log_index,
            event.c.event_time,
            event.c.type,
            event.c.action,
            event.c.biz_step,
            event.c.disposition,
            sa.func.coalesce(event.c.biz_location, event.c.read_point).label("where"),
            event_epc.c.role,
        )
        .join(event_epc, event_epc.c.event == event.c.log_index)
        .where(event_epc.c.epc == epc, event.c.event_time >= start, event.c.event_time <= end)
        .order_by(event.c.event_time, event.c.log_index)
    ).all()


def _children_released(conn: Connection, parent: str, child: str, after: int, end: int) -> int:
    """When ``child`` left ``parent``: the first DELETE naming both, or emptying ``parent``."""
    rows = _events_of(conn, parent, after, end)
    for row in rows:
        if row.type != "AggregationEvent" or row.action != "DELETE" or row.role != Role.PARENT:
            continue
        named = (
            conn.execute(
                sa.select(event_epc.c.epc).where(
                    event_epc.c.event == row.log_index, event_epc.c.role == int(Role.CHILD)
                )
            )
            .scalars()
            .all()
        )
        if not named or child in named:
            return int(row.event_time)
    return end


def trace(conn: Connection, epc: str) -> list[Step]:
    """Every custody step of ``epc`` (any representation), oldest first."""
    root = normalise_epc(epc.strip())
    steps: dict[int, Step] = {}
    names = dict(conn.execute(sa.select(location.c.id, location.c.name)).all())
    pending = [(root, -_FOREVER, _FOREVER, 0)]
    while pending:
        current, start, end, depth = pending.pop()
        for row in _events_of(conn, current, start, end):
            if row.log_index not in steps:
                steps[row.log_index] = Step(
                    int(row.log_index),
                    int(row.event_time),
                    row.type,
                    row.action,
                    row.biz_step,
                    row.disposition,
                    row.where,
                    names.get(row.where),
                    current,
                )
            packed = row.type == "AggregationEvent" and row.action == "ADD"
            if packed and row.role == Role.CHILD and depth < _MAX_DEPTH:
                parent = conn.execute(
                    sa.select(event_epc.c.epc).where(
                        event_epc.c.event == row.log_index, event_epc.c.role == int(Role.PARENT)
                    )
                ).scalar()
                if parent is not None:
                    t = int(row.event_time)
                    released = _children_released(conn, parent, current, t, end)
                    pending.append((parent, t, released, depth + 1))
    return sorted(steps.values(), key=lambda s: (s.event_time, s.log_index))
