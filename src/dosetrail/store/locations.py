"""Location master data: names, site types and the hierarchy ``WD_`` queries walk.

EPCIS master data (EPCIS 2.0 §6) arrives in a document's header as vocabularies of type
``urn:epcglobal:epcis:vtype:BusinessLocation`` or ``…:ReadPoint``; an element's ``children``
name the locations inside it (province → county → facility). Identifiers are stored as
canonical Digital Links, like every location in ``event``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dosetrail.epcis.document import Document
from dosetrail.epcis.identifiers import normalise_epc
from dosetrail.store.schema import location, location_tree

__all__ = ["descendants", "master_data_locations", "store_locations"]

_LOCATION_TYPES = (
    "urn:epcglobal:epcis:vtype:BusinessLocation",
    "urn:epcglobal:epcis:vtype:ReadPoint",
)


def _vocabularies(doc: Document) -> list[dict[str, Any]]:
    header = doc.header.get("epcisHeader")
    data = doc.header.get("epcisMasterData")
    if data is None and isinstance(header, dict):
        data = header.get("epcisMasterData")
    found = data.get("vocabularyList", []) if isinstance(data, dict) else []
    return [v for v in found if isinstance(v, dict)]


def _attribute(attributes: dict[str, Any], suffix: str) -> str | None:
    for key, value in attributes.items():
        if key.rsplit("#", 1)[-1].rsplit("/", 1)[-1].rsplit(":", 1)[-1] == suffix:
            return str(value)
    return None


def master_data_locations(doc: Document) -> list[dict[str, Any]]:
    """Location rows (id, name, site_type, parent, attributes) from ``doc``'s master data."""
    rows: dict[str, dict[str, Any]] = {}
    parents: dict[str, str] = {}
    for vocab in _vocabularies(doc):
        if vocab.get("type") not in _LOCATION_TYPES:
            continue
        for element in vocab.get("vocabularyElementList", []):
            if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                continue
            ident = normalise_epc(element["id"].strip())
            attributes = {
                str(a.get("id")): a.get("attribute")
                for a in element.get("attributes", [])
                if isinstance(a, dict)
            }
            rows[ident] = {
                "id": ident,
                "name": _attribute(attributes, "name"),
                "site_type": _attribute(attributes, "siteType"),
                "parent": None,
                "attributes": orjson.dumps(attributes).decode(),
            }
            for child in element.get("children", []):
                if isinstance(child, str):
                    parents[normalise_epc(child.strip())] = ident
    for child, parent in parents.items():
        rows.setdefault(
            child,
            {"id": child, "name": None, "site_type": None, "parent": None, "attributes": "{}"},
        )["parent"] = parent
    return list(rows.values())


def store_locations(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Insert or replace locations, then rebuild the ancestor table."""
    rows = list(rows)
    if not rows:
        return
    ids = [r["id"] for r in rows]
    known = {
        r.id: r
        for start in range(0, len(ids), 500)
        for r in conn.execute(
            sa.select(location).where(location.c.id.in_(ids[start : start + 500]))
        )
    }
    for row in rows:
        old = known.get(row["id"])
        if old is None:
            conn.execute(sa.insert(location).values(**row))
            continue
        merged = {
            "name": row["name"] or old.name,
            "site_type": row["site_type"] or old.site_type,
            "parent": row["parent"] or old.parent,
            "attributes": row["attributes"] if row["attributes"] != "{}" else old.attributes,
        }
        conn.execute(sa.update(location).where(location.c.id == row["id"]).values(**merged))
    _rebuild_tree(conn)


def _rebuild_tree(conn: Connection) -> None:
    parent_of = {r.id: r.parent for r in conn.execute(sa.select(location.c.id, location.c.parent))}
    pairs = []
    for node in parent_of:
        seen = {node}
        pairs.append({"ancestor": node, "descendant": node})
        up = parent_of.get(node)
        while up is not None and up not in seen:  # a cycle in bad master data stops here
            seen.add(up)
            pairs.append({"ancestor": up, "descendant": node})
            up = parent_of.get(up)
    conn.execute(sa.delete(location_tree))
    for start in range(0, len(pairs), 2000):
        conn.execute(sa.insert(location_tree), pairs[start : start + 2000])


def descendants(conn: Connection, ident: str) -> list[str]:
    """``ident`` and every location below it (just ``ident`` if it has no master data)."""
    canonical = normalise_epc(ident)
    rows = conn.execute(
        sa.select(location_tree.c.descendant).where(location_tree.c.ancestor == canonical)
    ).scalars()
    found = list(rows)
    return found or [canonical]
