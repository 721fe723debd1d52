"""The ledger's tables, all on one :data:`metadata` (Alembic migrations are generated from it).

=================  ==============================================================================
``party``          who may record: name, role, Ed25519 verifier key (C2SP note form)
``capture``        one signed EPCIS document as received: SHA-256 id, party, signature, batch root
``event``          one stored event: hash, log index, queryable columns, its JSON-LD
``event_epc``      the identifiers an event names (canonical Digital Link), for queries and trace
``location``       location master data (name, site type, parent, attributes)
``location_tree``  (ancestor, descendant) pairs, for ``WD_`` queries
``finding``        business contradictions found in what was recorded (never rejections)
=================  ==============================================================================

Times are integer microseconds since the Unix epoch (UTC) so that comparisons and ordering are
exact and fast on both SQLite and PostgreSQL. The log's own tables live in
:mod:`dosetrail.log.storage` on the same metadata.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "capture",
    "event",
    "event_epc",
    "finding",
    "location",
    "location_tree",
    "metadata",
    "party",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite makes an INTEGER PRIMARY KEY the rowid; elsewhere a 64-bit integer.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

party = sa.Table(
    "party",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("verifier_key", sa.Text, nullable=False, unique=True),
    sa.Column("site", sa.Text),  # canonical location the party operates (donor/store/facility)
    sa.Column("created", sa.BigInteger, nullable=False),
)

capture = sa.Table(
    "capture",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=False),  # = its log entry's index
    sa.Column("digest", sa.LargeBinary, nullable=False, unique=True),  # SHA-256 of the bytes
    sa.Column("party_id", _Id, sa.ForeignKey("party.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),  # document name as submitted
    sa.Column("received", sa.BigInteger, nullable=False),  # = recordTime of its events
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("root", sa.LargeBinary, nullable=False),  # RFC 9162 root over event digests
    # The event digests (32 bytes each, document order) the root is over, duplicates included:
    # what an inclusion proof in the capture's tree needs (NULL for captures stored before 0002).
    sa.Column("digests", sa.LargeBinary),
    sa.Column("signature", sa.Text, nullable=False),  # the signed-note signature line
    sa.Column("namespaces", sa.Text, nullable=False),  # JSON prefix map of its extensions
)

event = sa.Table(
    "event",
    metadata,
    sa.Column("log_index", _Id, primary_key=True, autoincrement=False),  # its log entry
    sa.Column("hash", sa.LargeBinary, nullable=False),  # CBV 2.0 event hash digest (32 bytes)
    sa.Column("declaration", sa.Boolean, nullable=False),  # carries an errorDeclaration
    sa.Column("capture_id", _Id, sa.ForeignKey("capture.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # index of the event in its capture
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("event_time", sa.BigInteger, nullable=False),
    sa.Column("record_time", sa.BigInteger, nullable=False),
    sa.Column("action", sa.Text),
    sa.Column("biz_step", sa.Text),  # CBV Web URI
    sa.Column("disposition", sa.Text),  # CBV Web URI
    sa.Column("read_point", sa.Text),  # canonical Digital Link where GS1
    sa.Column("biz_location", sa.Text),
    sa.Column("body", sa.LargeBinary, nullable=False),  # the event's JSON-LD (UTF-8)
    sa.UniqueConstraint("hash", "declaration"),
    sa.Index("ix_event_event_time", "event_time"),
    sa.Index("ix_event_record_time", "record_time"),
    sa.Index("ix_event_biz_step", "biz_step"),
    sa.Index("ix_event_biz_location", "biz_location"),
    sa.Index("ix_event_read_point", "read_point"),
    sa.Index("ix_event_capture_id", "capture_id"),
)

event_epc = sa.Table(
    "event_epc",
    metadata,
    sa.Column("event", _Id, sa.ForeignKey("event.log_index"), nullable=False),
    sa.Column("role", sa.SmallInteger, nullable=False),  # see dosetrail.store.epcs.Role
    sa.Column("epc", sa.Text, nullable=False),  # canonical Digital Link (or the URI as given)
    # The product class (GTIN) for analysis; class-level queries use an ``epc`` range instead,
    # so this column needs no index of its own.
    sa.Column("class_key", sa.Text),
    sa.Column("quantity", sa.Float),  # quantity elements only
    sa.Index("ix_event_epc_epc", "epc"),
    sa.Index("ix_event_epc_event", "event"),
)

location = sa.Table(
    "location",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # canonical Digital Link
    sa.Column("name", sa.Text),
    sa.Column("site_type", sa.Text),
    sa.Column("parent", sa.Text),
    sa.Column("attributes", sa.Text, nullable=False),  # JSON object of all master data
)

location_tree = sa.Table(
    "location_tree",
    metadata,
    sa.Column("ancestor", sa.Text, primary_key=True),
    sa.Column("descendant", sa.Text, primary_key=True),
    sa.Index("ix_location_tree_descendant", "descendant"),
)

finding = sa.Table(
    "finding",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),  # stable identity, for dedupe
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the findings.json object
    sa.Column("found", sa.BigInteger, nullable=False),
)
