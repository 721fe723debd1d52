"""The server's own tables, on the ledger's :data:`~dosetrail.store.schema.metadata`.

==================  ===========================================================================
``capture_job``     one ``POST /capture`` (EPCIS 2.0 §12 capture job): the document and the
                    party's capture signature are kept until the job is done, so a server killed
                    after answering 202 finishes the job when it starts again
``named_query``     ``POST /queries``: a named EPCIS query, stored until deleted
``request_nonce``   nonces of signed requests (RFC 9421 ``nonce``) seen within the window: a
                    replayed request is refused even across a restart
``log_cosignature`` C2SP tlog-cosignature lines that registered witnesses submitted, per
                    checkpoint size; ``/log/checkpoint`` appends them to the operator's note
==================  ===========================================================================

Times are integer microseconds since the Unix epoch, as in the ledger.
"""

from __future__ import annotations

import sqlalchemy as sa

from dosetrail.store.schema import metadata

__all__ = ["capture_job", "log_cosignature", "named_query", "request_nonce"]

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

capture_job = sa.Table(
    "capture_job",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("party_id", _Id, sa.ForeignKey("party.id"), nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),
    sa.Column("finished", sa.BigInteger),  # NULL while queued or running
    sa.Column("behaviour", sa.Text, nullable=False),  # rollback | proceed
    sa.Column("body", sa.LargeBinary),  # the document as received; NULL once the job is done
    sa.Column("signature", sa.LargeBinary, nullable=False),  # the party's capture note
    sa.Column("success", sa.Boolean),
    sa.Column("result", sa.Text),  # JSON: errors and what was stored
    sa.Index("ix_capture_job_finished", "finished"),
)

named_query = sa.Table(
    "named_query",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("party_id", _Id, sa.ForeignKey("party.id")),
    sa.Column("query", sa.Text, nullable=False),  # JSON object of EPCIS query parameters
    sa.Column("created", sa.BigInteger, nullable=False),
)

request_nonce = sa.Table(
    "request_nonce",
    metadata,
    sa.Column("nonce", sa.Text, primary_key=True),
    sa.Column("party_id", _Id, sa.ForeignKey("party.id"), nullable=False),
    sa.Column("created", sa.BigInteger, nullable=False),
    sa.Index("ix_request_nonce_created", "created"),
)

log_cosignature = sa.Table(
    "log_cosignature",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("witness_id", _Id, sa.ForeignKey("party.id"), primary_key=True),
    sa.Column("line", sa.Text, nullable=False),  # "— <name> <base64>\n"
    sa.Column("timestamp", sa.BigInteger, nullable=False),  # the cosignature's own time (s)
    sa.Column("received", sa.BigInteger, nullable=False),
)
