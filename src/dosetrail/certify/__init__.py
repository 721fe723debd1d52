"""Certification: verifiable random sampling, statistics, a signed certificate, offline bundles.

Modules, one concept each:

==================  =========================================================================
``design``          sampling design parameters and the sample sizes they give
``statistics``      exact binomial tails, Clopper–Pearson bounds, LQAS rules (integers only)
``frame``           the sampling frame (units, strata) and its file format
``sampling``        seed ``SHA-256(root ‖ nonce)``, SHA-256 counter-mode draws
``outcomes``        claims and monitor observations read from events; when a unit is verified
``summary``         unit results and the certificate's numbers
``entries``         signed log entries: nonce commit/reveal, frame, certificate
``nonce``           the donor's commit and reveal
``plan``            frame commitment, sampling checkpoint, the sample
``observations``    monitor observation events (from ``reality.json`` in the demo)
``certificate``     the statement and its evaluation (shared with the verifier)
``issue``           sign and log the certificate, write the bundle
``bundle``          the bundle's members and formats (``_zip``: the canonical container)
``trust``           the verifier's trust file
``verify``          offline verification (:func:`verify_bundle`)
``html``            the human certificate
``pipeline``        everything after loading a simulation (:func:`certify_simulation`)
==================  =========================================================================

See ``docs/certification.md`` for the algorithms, formats and the statistics.
"""

from dosetrail.certify.checkpoints import local_witnesses
from dosetrail.certify.design import DEFAULT_DESIGN, Design
from dosetrail.certify.issue import issue_certificate, write_certificate_bundle
from dosetrail.certify.nonce import commit_nonce, new_nonce, reveal_nonce
from dosetrail.certify.observations import observations_from_reality, record_observations
from dosetrail.certify.pipeline import (
    Certified,
    certify,
    certify_simulation,
    tampered_copy,
    trust_for,
)
from dosetrail.certify.plan import Plan, commit_frame, load_plan, seal
from dosetrail.certify.trust import Trust
from dosetrail.certify.verify import Check, Report, verify_bundle

__all__ = [
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
