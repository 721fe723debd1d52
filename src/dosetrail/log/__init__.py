"""dosetrail's transparency log: nobody — including its operator — can rewrite history unnoticed.

Modules, one concept each:

==================  =========================================================================
``merkle``          RFC 9162 §2.1 tree hash, inclusion and consistency proofs, and verifiers
``note``            C2SP signed-note with Ed25519: keys, :class:`Signer`, :func:`open_note`
``checkpoint``      C2SP tlog-checkpoint
``cosignature``     C2SP tlog-cosignature (cosignature/v1)
``tiles``           C2SP tlog-tiles paths, tiles, entry bundles, tile-backed hash reader
``storage``         the log's tables; :func:`append_entries` sequences in the caller's transaction
``integrate``       extend tiles from entries, sign checkpoints (resumable, bounded memory)
``reader``          proofs and checkpoints from the database (:class:`LogReader`)
``tileproofs``      RFC 9162 proofs sliced out of tile trees (the reader's fast path)
``sqlitetiles``     tile reads on SQLite: one kept connection, short read snapshots
``directory``       a tiles tree in a directory (read, atomic write)
``export``          ``dosetrail log tiles --out DIR``
``audit``           offline audit of a tiles log against a trusted key
``witness``         C2SP tlog-witness ``add-checkpoint`` with persistent per-log state
``keys``            the operator key and first-use setup (:func:`open_log`)
==================  =========================================================================

The ledger calls :func:`append_entries` inside its capture transaction, then :func:`integrate`.
"""

from dosetrail.log.audit import AuditResult, audit_log
from dosetrail.log.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint, sign_checkpoint
from dosetrail.log.cosignature import CosignatureVerifier, Cosigner
from dosetrail.log.directory import DirectoryTiles
from dosetrail.log.export import export_tiles
from dosetrail.log.integrate import integrate
from dosetrail.log.keys import OpenLog, open_log
from dosetrail.log.merkle import (
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from dosetrail.log.note import Note, Signer, Verifier, open_note, sign_note
from dosetrail.log.reader import LogReader
from dosetrail.log.storage import append_entries, init_log
from dosetrail.log.tiles import MAX_ENTRY_SIZE
from dosetrail.log.witness import AddCheckpointRequest, Witness

__all__ = [
    "MAX_ENTRY_SIZE",
    "AddCheckpointRequest",
    "AuditResult",
    "Checkpoint",
    "CosignatureVerifier",
    "Cosigner",
    "DirectoryTiles",
    "LogReader",
    "Note",
    "OpenLog",
    "SignedCheckpoint",
    "Signer",
    "Verifier",
    "Witness",
    "append_entries",
    "audit_log",
    "export_tiles",
    "init_log",
    "integrate",
    "leaf_hash",
    "open_checkpoint",
    "open_log",
    "open_note",
    "root_of",
    "sign_checkpoint",
    "sign_note",
    "verify_consistency",
    "verify_inclusion",
]
