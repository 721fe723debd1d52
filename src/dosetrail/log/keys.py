"""The log operator's key and the ledger's log, set up on first use.

The key lives in ``DOSETRAIL_HOME/keys/log.key`` as a C2SP note private key whose name is the
log's origin (see :func:`dosetrail.log.storage.default_origin`), so the verifier key printed by
``dosetrail log key`` names the log it verifies. :func:`open_log` is what ``dosetrail init``
(and every ``dosetrail log`` command) calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from dosetrail.errors import StorageError
from dosetrail.home import Home
from dosetrail.log.note import Signer
from dosetrail.log.storage import init_log
from dosetrail.store.engine import open_engine

__all__ = ["LOG_KEY_FILE", "OpenLog", "ensure_log_key", "open_log"]

LOG_KEY_FILE = "log.key"


@dataclass(frozen=True, slots=True)
class OpenLog:
    """The ledger's engine, the log's origin and the operator's signer."""

    engine: Engine
    origin: str
    signer: Signer


def ensure_log_key(keys_dir: Path, origin: str) -> Signer:
    """Load ``keys_dir/log.key``, creating it for ``origin`` if missing; it must name ``origin``."""
    path = keys_dir / LOG_KEY_FILE
    if not path.exists():
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        Signer.generate(origin).save(path)
    signer = Signer.load(path)
    if signer.name != origin:
        raise StorageError(
            f"{path} is the key of log {signer.name!r}, but this ledger's log is {origin!r}"
        )
    return signer


def open_log(home: Home, origin: str | None = None) -> OpenLog:
    """Open the ledger database, create the log tables and operator key if missing."""
    home.ensure()
    engine = open_engine(home.db_url)
    chosen = init_log(engine, origin)
    return OpenLog(engine, chosen, ensure_log_key(home.keys_dir, chosen))
