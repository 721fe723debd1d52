"""What one server process is configured with (``dosetrail serve`` options, or tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from dosetrail.home import Home

__all__ = ["ReadAccess", "ServerSettings"]

ReadAccess = Literal["public", "restricted"]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Settings of one server process for one ``DOSETRAIL_HOME``.

    ``read_access``: ``public`` lets anyone query events; ``restricted`` needs a signed request
    by a registered party whose role is in ``read_roles``. The log and the dashboard's
    aggregate pages stay public either way (the log holds only hashes; see docs/server.md).
    """

    home: Home = field(default_factory=Home.from_env)
    read_access: ReadAccess = "public"
    read_roles: frozenset[str] = frozenset(
        {"donor", "carrier", "store", "facility", "monitor", "operator", "witness"}
    )
    max_body_bytes: int = 32 << 20  # GS1-EPCIS-Capture-File-Size-Limit
    capture_limit: int = 10_000  # GS1-EPCIS-Capture-Limit (events per capture document)
    body_timeout_s: float = 30.0  # a client must send its whole body within this
    signature_window_s: int = 300  # RFC 9421 `created` may be this old (or this far ahead)
    integrate_interval_s: float = 1.0  # sign a new checkpoint at most this often
    batch_jobs: int = 32  # capture jobs committed together (one transaction)
    batch_bytes: int = 8 << 20  # bounds the worker's memory (parsed documents are ~20x)
    per_page_default: int = 30  # EPCIS 2.0 OpenAPI `perPage` default
    analysis_max_age_s: float = 60.0  # the dashboard re-analyses at most this often
    start_worker: bool = True  # tests may drive the capture worker by hand
