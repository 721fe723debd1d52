"""The dosetrail server: EPCIS 2.0 REST binding, transparency log and dashboard (FastAPI).

``create_app(settings)`` builds the ASGI app for one ``DOSETRAIL_HOME`` (``dosetrail serve``
runs it under uvicorn). Routers per resource: :mod:`.capture` (capture jobs, single events),
:mod:`.queries` (events, per-dimension resources, named queries), :mod:`.log` (C2SP tlog-tiles,
proofs, witness cosignatures) and :mod:`.dashboard` (server-rendered pages). Requests are made as
a party with RFC 9421 HTTP Message Signatures (:mod:`.auth`, client side in :mod:`.client`);
every error becomes an RFC 7807 problem document in :mod:`.problems`. See ``docs/server.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosetrail.server.app import create_app
    from dosetrail.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    """Import the app lazily: the ledger's migrations import :mod:`.tables` alone, and should
    not pay for FastAPI and the analysis (0.7 s)."""
    if name == "create_app":
        from dosetrail.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from dosetrail.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
