"""Where a certification in progress keeps its working files: ``DOSETRAIL_HOME/certify/…``.

One folder per programme and period (``certify/<programme>/<period>/``):

=====================  ========================================================================
``state.json``         log indices of the steps done: ``nonceCommit``, ``frame``,
                       ``nonceReveal``, ``observations`` (capture entries), ``certificate``
``frame.jsonl``        the frame committed in the log
``sampling.note``      the sampling checkpoint with its witness cosignatures
``certificate.json``   the signed statement (RFC 8785 JSON) and ``certificate.sig``
=====================  ========================================================================

Everything here can be checked against the log; nothing here is trusted by a verifier.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from dosetrail.certify.frame import check_label
from dosetrail.errors import MalformedInput, NotFound, StorageError
from dosetrail.home import Home

__all__ = ["PeriodState"]


class PeriodState:
    def __init__(self, folder: Path, programme: str, period: str) -> None:
        self.folder = folder
        self.programme = programme
        self.period = period
        self._data: dict[str, Any] = {}
        path = folder / "state.json"
        if path.exists():
            try:
                self._data = orjson.loads(path.read_bytes())
            except (OSError, orjson.JSONDecodeError) as e:
                raise StorageError(f"cannot read {path}: {e}") from e

    @classmethod
    def open(cls, home: Home, programme: str, period: str) -> PeriodState:
        try:
            check_label("programme", programme)
            check_label("period", period)
        except ValueError as e:
            raise MalformedInput(str(e)) from e
        folder = home.root / "certify" / programme / period
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder, programme, period)

    def get(self, key: str) -> Any:
        return self._data.get(key)

    def need(self, key: str, step: str) -> Any:
        value = self._data.get(key)
        if value is None:
            raise NotFound(
                f"{self.programme}/{self.period}: {key} is not recorded yet — run {step} first"
            )
        return value

    def set(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.write("state.json", orjson.dumps(self._data, option=orjson.OPT_INDENT_2))

    def path(self, name: str) -> Path:
        return self.folder / name

    def read(self, name: str, step: str) -> bytes:
        try:
            return (self.folder / name).read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"{self.programme}/{self.period}: no {name} — run {step} first") from e

    def write(self, name: str, data: bytes) -> None:
        path = self.folder / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as e:
            raise StorageError(f"cannot write {path}: {e}") from e
