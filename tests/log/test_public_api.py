"""The public surface of ``dosetrail.log`` that the ledger and other packages rely on."""

from __future__ import annotations

import inspect

from dosetrail import log


def test_public_names_are_locked() -> None:
    assert sorted(log.__all__) == sorted(
        [
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
    )
    for name in log.__all__:
        assert hasattr(log, name)


def test_ledger_facing_signatures() -> None:
    assert str(inspect.signature(log.append_entries)) == (
        "(conn: 'Connection', entries: 'Sequence[bytes]') -> 'int'"
    )
    assert list(inspect.signature(log.integrate).parameters) == ["engine", "signer", "chunk"]
