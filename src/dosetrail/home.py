"""Where dosetrail keeps its state: ``DOSETRAIL_HOME`` (default ``./.dosetrail``).

Layout: ``ledger.db`` (SQLite, unless ``DOSETRAIL_DB`` / ``--db`` names another database),
``keys/`` (Ed25519 keys as C2SP note keys), ``log/`` (exported tiles and checkpoint).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dosetrail.store.engine import sqlite_url

__all__ = ["Home"]


@dataclass(frozen=True, slots=True)
class Home:
    root: Path
    db_url: str

    @classmethod
    def from_env(cls, root: Path | None = None, db_url: str | None = None) -> Home:
        """Resolve the home folder and database URL from arguments, then the environment."""
        base = root or Path(os.environ.get("DOSETRAIL_HOME", ".dosetrail"))
        url = db_url or os.environ.get("DOSETRAIL_DB") or sqlite_url(base / "ledger.db")
        return cls(base, url)

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    def ensure(self) -> Home:
        """Create the folders (private: keys live here)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.keys_dir.mkdir(mode=0o700, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        return self
