"""The public surface of ``dosetrail.certify`` that the demo, server and CLI rely on."""

from __future__ import annotations

import inspect

from dosetrail import certify


def test_public_names_are_locked() -> None:
    assert sorted(certify.__all__) == sorted(
        [
            "DEFAULT_DESIGN",
            "Certified",
            "Check",
            "Design",
            "Plan",
            "Report",
            "Trust",
            "certify",
            "certify_simulation",
            "commit_frame",
            "commit_nonce",
            "issue_certificate",
            "load_plan",
            "local_witnesses",
            "new_nonce",
            "observations_from_reality",
            "record_observations",
            "reveal_nonce",
            "seal",
            "tampered_copy",
            "trust_for",
            "verify_bundle",
            "write_certificate_bundle",
        ]
    )
    for name in certify.__all__:
        assert hasattr(certify, name)


def test_entry_points_take_keyword_options() -> None:
    params = inspect.signature(certify.certify_simulation).parameters
    assert list(params)[:3] == ["ledger", "sim", "out_dir"]
    assert all(p.kind is p.KEYWORD_ONLY for p in list(params.values())[3:])
    assert list(inspect.signature(certify.verify_bundle).parameters) == [
        "source",
        "trust",
        "on_check",
    ]
