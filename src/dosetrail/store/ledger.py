"""The ledger as one object: database, log and keys of a ``DOSETRAIL_HOME``.

This is the Python API the CLI and the server share; every method is one unit of work with its
own transaction(s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from dosetrail.errors import DosetrailError
from dosetrail.home import Home
from dosetrail.log.checkpoint import Checkpoint
from dosetrail.log.integrate import integrate
from dosetrail.log.keys import open_log
from dosetrail.log.note import Signer
from dosetrail.store.capture import CaptureRequest, CaptureResult, capture_batch, capture_document
from dosetrail.store.engine import read_tx
from dosetrail.store.parties import Party, add_party, list_parties
from dosetrail.store.query import QueryPage, run_query
from dosetrail.store.trace import Step, trace

__all__ = ["Ledger"]


@dataclass(slots=True)
class Ledger:
    home: Home
    engine: Engine
    origin: str
    operator: Signer

    @classmethod
    def open(cls, home: Home | None = None) -> Ledger:
        """Open (creating or upgrading if needed) the ledger of ``home``."""
        home = home or Home.from_env()
        log = open_log(home)
        return cls(home, log.engine, log.origin, log.signer)

    def add_party(
        self, name: str, role: str, pubkey: str | None = None, site: str | None = None
    ) -> Party:
        return add_party(self.engine, self.home.keys_dir, name, role, pubkey=pubkey, site=site)

    def parties(self) -> list[Party]:
        return list_parties(self.engine)

    def capture(
        self,
        data: bytes,
        party: str,
        *,
        name: str = "<document>",
        signature: bytes | None = None,
        received: int | None = None,
    ) -> CaptureResult:
        """Validate, sign and store one EPCIS document; see :mod:`dosetrail.store.capture`."""
        return capture_document(
            self.engine,
            self.home.keys_dir,
            data,
            party,
            name=name,
            signature=signature,
            received=received,
        )

    def capture_batch(
        self, requests: Sequence[CaptureRequest]
    ) -> list[CaptureResult | DosetrailError]:
        """Capture several documents in one transaction; a refused one only costs itself."""
        return capture_batch(self.engine, self.home.keys_dir, requests)

    def integrate(self) -> Checkpoint:
        """Extend the log's tiles to every committed entry and sign a new checkpoint."""
        return integrate(self.engine, self.operator)

    def query(self, params: Mapping[str, str | Sequence[str]], per_page: int = 100) -> QueryPage:
        """One page of an EPCIS query; see :mod:`dosetrail.store.query`."""
        with read_tx(self.engine) as conn:
            return run_query(conn, params, per_page=per_page)

    def trace(self, epc: str) -> list[Step]:
        """The chain of custody of ``epc``; see :mod:`dosetrail.store.trace`."""
        with read_tx(self.engine) as conn:
            return trace(conn, epc)

    def close(self) -> None:
        self.engine.dispose()
