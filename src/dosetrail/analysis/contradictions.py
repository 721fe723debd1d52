"""Business contradictions: what the recorded events say cannot all be true.

The ledger accepts every well-formed, authorised event (its job is to keep them, not to judge);
contradictions between events become findings (the ledger issue): a serial consumed twice or at
two places (a **clone**: EPCIS 2.0 §7.3.1, an SGTIN names one physical instance), an object
packed into a second parent while still in the first (EPCIS 2.0 §7.4.3: an ADD makes the children
part of the parent until a DELETE), events recorded long after their ``eventTime`` (profile §1:
a late recording keeps its true time, so the gap is evidence), events dated after the ledger
recorded them, events at locations missing from the master data, and two sessions at one post at
the same time.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from dosetrail.analysis.findings import Finding
from dosetrail.analysis.ledgerdata import LedgerData, step_uri
from dosetrail.analysis.sessions import Sessions
from dosetrail.store.epcs import Role
from dosetrail.store.schema import event, event_epc

__all__ = [
    "BACKDATE_DAYS",
    "backdate_findings",
    "clone_findings",
    "double_aggregation_findings",
    "location_findings",
    "overlap_findings",
]

BACKDATE_DAYS = 7
FUTURE_HOURS = 24
_DAY_US = 86_400_000_000


def _float(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _consumed(size: int) -> sa.Select[tuple[str, int]]:
    return (
        sa.select(event_epc.c.epc, event_epc.c.event)
        .join(event, event.c.log_index == event_epc.c.event)
        .where(
            event_epc.c.role == int(Role.EPC),
            event.c.biz_step.in_([step_uri("dispensing"), step_uri("destroying")]),
            event.c.log_index < size,
            event.c.declaration.is_(False),
        )
    )


def clone_findings(data: LedgerData) -> list[Finding]:
    """Serials consumed (opened in a session, or destroyed) by more than one event."""
    size = data.covered.size
    inner = _consumed(size).subquery()
    twice = (
        sa.select(inner.c.epc)
        .group_by(inner.c.epc)
        .having(sa.func.count(sa.distinct(inner.c.event)) > 1)
    )
    rows = data.conn.execute(_consumed(size).where(event_epc.c.epc.in_(twice))).fetchall()
    if not rows:
        return []
    uses = (
        pl.DataFrame(rows, schema={"epc": pl.String, "log_index": pl.Int64}, orient="row")
        .join(data.events.select("log_index", "site", "event_time"), on="log_index")
        .sort("epc", "event_time", "log_index")
        .with_columns(pl.col("site").first().over("epc").alias("first_site"))
    )
    received = _received_at(data, sorted(set(uses["epc"].to_list())))
    uses = uses.join(received, on=["epc", "site"], how="left").with_columns(
        pl.col("received").fill_null(False)
    )
    # the copy is the use at a site the vial never reached; failing that, the later use
    later = uses.filter(
        pl.when(pl.col("received").all().over("epc"))
        .then(pl.col("log_index") != pl.col("log_index").first().over("epc"))
        .otherwise(~pl.col("received"))
    )
    found: list[Finding] = []
    for (site,), group in later.group_by("site"):
        epcs = sorted(set(group["epc"].to_list()))
        involved = uses.filter(pl.col("epc").is_in(epcs))
        hashes, indices = data.evidence(involved["log_index"].to_list())
        others = sorted({s for s in involved["site"].to_list() if s and s != site})
        where = (
            f"already used at {', '.join(data.site_name(o) for o in others)}"
            if others
            else "already used at the same site"
        )
        found.append(
            Finding(
                kind="clone",
                severity="high",
                title=f"{len(epcs)} vial serial(s) used twice, again at {data.site_name(site)}",
                explanation=(
                    f"{data.site_name(site)} recorded opening or destroying {len(epcs)} vial(s) "
                    f"whose serial numbers were {where}. A serial names one physical vial: "
                    "these are copied numbers, on made-up sessions or on counterfeit vials."
                ),
                subject=(site,),
                locations=(str(site), *others),
                parties=data.parties_of(indices),
                epcs=tuple(epcs[:200]),
                events=hashes,
                log_indices=indices,
                metrics={"serials": float(len(epcs))},
            )
        )
    return found


def _received_at(data: LedgerData, epcs: list[str]) -> pl.DataFrame:
    """(epc, site, received=True) for each site that received the vial or a case holding it."""
    size = data.covered.size
    pairs: list[tuple[str, str]] = [(e, e) for e in epcs]
    for start in range(0, len(epcs), 500):
        chunk = epcs[start : start + 500]
        child = event_epc.alias("child")
        parent = event_epc.alias("parent")
        query = (
            sa.select(child.c.epc, parent.c.epc)
            .join(parent, parent.c.event == child.c.event)
            .where(
                child.c.epc.in_(chunk),
                child.c.role == int(Role.CHILD),
                parent.c.role == int(Role.PARENT),
                child.c.event < size,
            )
        )
        pairs += [(str(a), str(b)) for a, b in data.conn.execute(query)]
    holders = pl.DataFrame(pairs, schema={"epc": pl.String, "holder": pl.String}, orient="row")
    names = sorted(set(holders["holder"].to_list()))
    rows: list[tuple[str, int]] = []
    for start in range(0, len(names), 500):
        query = (
            sa.select(event_epc.c.epc, event_epc.c.event)
            .join(event, event.c.log_index == event_epc.c.event)
            .where(
                event_epc.c.epc.in_(names[start : start + 500]),
                event_epc.c.role == int(Role.EPC),
                event.c.biz_step == step_uri("receiving"),
                event.c.log_index < size,
            )
        )
        rows += [(str(a), int(b)) for a, b in data.conn.execute(query)]
    receipts = pl.DataFrame(
        rows, schema={"holder": pl.String, "log_index": pl.Int64}, orient="row"
    ).join(data.events.select("log_index", "site"), on="log_index")
    return (
        holders.join(receipts, on="holder")
        .select("epc", "site")
        .unique()
        .with_columns(pl.lit(True).alias("received"))
    )


def double_aggregation_findings(data: LedgerData) -> list[Finding]:
    """Children packed into a second parent before the first was unpacked."""
    size = data.covered.size
    adds = (
        sa.select(event_epc.c.epc, event_epc.c.event)
        .join(event, event.c.log_index == event_epc.c.event)
        .where(
            event_epc.c.role == int(Role.CHILD),
            event.c.type == "AggregationEvent",
            event.c.action == "ADD",
            event.c.log_index < size,
            event.c.declaration.is_(False),
        )
    )
    inner = adds.subquery()
    repeated = sa.select(inner.c.epc).group_by(inner.c.epc).having(sa.func.count() > 1)
    rows = data.conn.execute(adds.where(event_epc.c.epc.in_(repeated))).fetchall()
    if not rows:
        return []
    parents = data.conn.execute(
        sa.select(event_epc.c.event, event_epc.c.epc).where(
            event_epc.c.role == int(Role.PARENT), event_epc.c.event < size
        )
    ).fetchall()
    parent_of = pl.DataFrame(
        parents, schema={"log_index": pl.Int64, "parent": pl.String}, orient="row"
    )
    times = data.events.select("log_index", "event_time", "action", "site")
    packed = (
        pl.DataFrame(rows, schema={"child": pl.String, "log_index": pl.Int64}, orient="row")
        .join(parent_of, on="log_index")
        .join(times, on="log_index")
        .sort("child", "event_time", "log_index")
        .with_columns(
            pl.col("parent").shift().over("child").alias("previous"),
            pl.col("event_time").shift().over("child").alias("since"),
            pl.col("log_index").shift().over("child").alias("previous_event"),
        )
        .filter(pl.col("previous").is_not_null(), pl.col("previous") != pl.col("parent"))
    )
    deletes = (
        parent_of.join(times, on="log_index")
        .filter(pl.col("action") == "DELETE")
        .select(pl.col("parent").alias("previous"), pl.col("event_time").alias("t_del"))
    )
    checked = packed.join(deletes, on="previous", how="left").with_columns(
        ((pl.col("t_del") > pl.col("since")) & (pl.col("t_del") <= pl.col("event_time")))
        .fill_null(False)
        .alias("released")
    )
    doubled = (
        checked.group_by("child", "log_index", "previous_event", "parent", "previous", "site")
        .agg(pl.col("released").any())
        .filter(~pl.col("released"))
    )
    found: list[Finding] = []
    for (parent,), group in doubled.group_by("parent"):
        children = sorted(set(group["child"].to_list()))
        indices_in = group["log_index"].to_list() + group["previous_event"].to_list()
        hashes, indices = data.evidence(indices_in)
        site = group["site"][0]
        found.append(
            Finding(
                kind="double_aggregation",
                severity="high",
                title=f"{len(children)} object(s) packed into two parents at once",
                explanation=(
                    f"{len(children)} object(s) were packed into {parent} while still packed "
                    f"in {', '.join(sorted(set(group['previous'].to_list())))} (never unpacked "
                    "from it): one object cannot be in two containers."
                ),
                subject=(parent,),
                locations=(site,) if site else (),
                parties=data.parties_of(indices),
                epcs=(parent, *children[:200]),
                events=hashes,
                log_indices=indices,
            )
        )
    return found


def backdate_findings(data: LedgerData) -> list[Finding]:
    """Events recorded a week or more after their eventTime, or dated after their recording."""
    late = data.events.with_columns(
        ((pl.col("record_time") - pl.col("event_time")) / _DAY_US).alias("days")
    )
    found: list[Finding] = []
    backdated = late.filter(pl.col("days") >= BACKDATE_DAYS)
    for (site, capture_id), group in backdated.group_by("site", "capture_id"):
        hashes, indices = data.evidence(group["log_index"].to_list())
        worst = _float(group["days"].max())
        steps = ", ".join(sorted({str(s) for s in group["step"].to_list()}))
        found.append(
            Finding(
                kind="backdated",
                severity="high" if worst >= 2 * BACKDATE_DAYS else "medium",
                title=f"{group.height} event(s) at {data.site_name(site)} recorded "
                f"{worst:.0f} days late",
                explanation=(
                    f"{group.height} {steps} event(s) at {data.site_name(site)} say they "
                    f"happened up to {worst:.0f} days before the ledger received them (in one "
                    "capture). Records written weeks later, in one sitting, are how sessions "
                    "that never happened, or padded tallies, are usually entered."
                ),
                subject=(site, capture_id),
                locations=(str(site),) if site else (),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
                metrics={"daysLate": worst},
            )
        )
    future = late.filter(pl.col("days") < -FUTURE_HOURS / 24)
    for (site, capture_id), group in future.group_by("site", "capture_id"):
        hashes, indices = data.evidence(group["log_index"].to_list())
        found.append(
            Finding(
                kind="future_event",
                severity="medium",
                title=f"{group.height} event(s) at {data.site_name(site)} dated in the future",
                explanation=(
                    f"{group.height} event(s) at {data.site_name(site)} carry an eventTime more "
                    f"than {FUTURE_HOURS} hours after the ledger recorded them: the clock or the "
                    "record is wrong."
                ),
                subject=(site, capture_id),
                locations=(str(site),) if site else (),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
            )
        )
    return found


def location_findings(data: LedgerData) -> list[Finding]:
    """Events whose readPoint or bizLocation the location master data does not know."""
    known = set(data.locations["id"].to_list())
    found: list[Finding] = []
    for column in ("read_point", "biz_location"):
        odd = data.events.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(list(known)))
        for (where,), group in odd.group_by(column):
            hashes, indices = data.evidence(group["log_index"].to_list())
            site = group["site"][0]
            locations = tuple(dict.fromkeys(x for x in (str(where), site) if x))
            found.append(
                Finding(
                    kind="unregistered_location",
                    severity="high",
                    title=f"{group.height} event(s) at an unregistered location",
                    explanation=(
                        f"{group.height} event(s) name {where} as their "
                        f"{'read point' if column == 'read_point' else 'business location'}, "
                        "which is not in the location master data: nobody registered a post or "
                        "site there, so nobody can visit it."
                    ),
                    subject=(str(where),),
                    locations=locations,
                    parties=data.parties_of(indices),
                    events=hashes,
                    log_indices=indices,
                )
            )
    return found


def overlap_findings(data: LedgerData, s: Sessions) -> list[Finding]:
    """Two sessions at one post whose opening hours overlap."""
    frame = (
        s.sessions.filter(pl.col("start").is_not_null(), pl.col("post").is_not_null())
        .sort("post", "start", "log_index")
        .with_columns(
            pl.col("end").cum_max().over("post").shift().over("post").alias("busy_until"),
            pl.col("log_index").shift().over("post").alias("before"),
        )
        .filter(pl.col("busy_until") > pl.col("start"))
    )
    found: list[Finding] = []
    for (site,), group in frame.group_by("site"):
        indices_in = group["log_index"].to_list() + group["before"].to_list()
        hashes, indices = data.evidence(indices_in)
        found.append(
            Finding(
                kind="session_overlap",
                severity="high",
                title=f"Overlapping sessions at {data.site_name(site)}",
                explanation=(
                    f"{group.height} session(s) at {data.site_name(site)} were open at the same "
                    "post while another session there was still running: the same vaccinators "
                    "and the same queue cannot be counted twice."
                ),
                subject=(site,),
                locations=(str(site),),
                parties=data.parties_of(indices),
                events=hashes,
                log_indices=indices,
            )
        )
    return found
