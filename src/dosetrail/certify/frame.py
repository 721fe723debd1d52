"""The sampling frame: every unit that can be drawn, fixed (and logged) before the seed exists.

A unit is one claim in the ledger: an administration session (its ``dispensing`` event; weight =
doses recorded administered) or a site's closing stock (its last ``cycle_counting`` event;
weight = vials recorded on hand). Units are identified by the log index of their event entry and
sorted by (kind, stratum, log index); the frame file (``frame.jsonl``) is

* line 1: the header, RFC 8785 JSON — format, programme, period, ``logSize`` (every unit's
  entry is below it), the :class:`~dosetrail.certify.design.Design`, and per kind the number of
  units, total weight, draws and per-stratum units and weight;
* then one line per unit, ``["<kind>","<stratum>",<log index>,<weight>]``.

Its SHA-256 is committed in a ``frame`` log entry signed by the certifier before the sampling
checkpoint, so neither the frame nor the sample size can be adapted to the seed. A wrong unit
(an event that is not there, a weight that does not match, a duplicate) can only hurt the
certifier: when drawn, it counts as not verified.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
import rfc8785

from dosetrail.certify.design import KINDS, Design
from dosetrail.errors import IntegrityError

__all__ = ["FRAME_FORMAT", "Frame", "Stratum", "Unit", "check_label", "units_of"]

FRAME_FORMAT = "dosetrail-frame/v1"
_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True, order=True)
class Unit:
    """One drawable claim. Ordering is the frame order."""

    kind: str
    stratum: str
    log_index: int
    weight: int

    def line(self) -> bytes:
        return orjson.dumps([self.kind, self.stratum, self.log_index, self.weight])


@dataclass(frozen=True, slots=True)
class Stratum:
    """A stratum of one kind: its units are ``frame.units[start:end]``."""

    kind: str
    id: str
    start: int
    end: int
    weight: int


@dataclass(frozen=True)
class Frame:
    programme: str
    period: str
    log_size: int
    design: Design
    units: tuple[Unit, ...]

    @classmethod
    def build(
        cls,
        programme: str,
        period: str,
        log_size: int,
        design: Design,
        units: Iterable[Unit],
    ) -> Frame:
        """A frame from unsorted units (weight-0 units are dropped: they can never be drawn)."""
        check_label("programme", programme)
        check_label("period", period)
        kept = sorted({u for u in units if u.weight > 0})
        if len({u.log_index for u in kept}) != len(kept):
            raise ValueError("a log index appears in more than one unit")
        for u in kept:
            check_label("stratum", u.stratum)
            if u.kind not in KINDS:
                raise ValueError(f"unknown unit kind {u.kind!r}")
            if not 0 <= u.log_index < log_size:
                raise ValueError(f"unit at log index {u.log_index} is not below {log_size}")
        return cls(programme, period, log_size, design, tuple(kept))

    # -- structure ---------------------------------------------------------------------------
    @cached_property
    def strata(self) -> dict[str, tuple[Stratum, ...]]:
        """Per kind, its strata in frame order."""
        out: dict[str, list[Stratum]] = {k: [] for k in KINDS}
        i = 0
        units = self.units
        while i < len(units):
            kind, sid = units[i].kind, units[i].stratum
            j, weight = i, 0
            while j < len(units) and units[j].kind == kind and units[j].stratum == sid:
                weight += units[j].weight
                j += 1
            out[kind].append(Stratum(kind, sid, i, j, weight))
            i = j
        return {k: tuple(v) for k, v in out.items()}

    def kind_range(self, kind: str) -> tuple[int, int]:
        strata = self.strata[kind]
        return (strata[0].start, strata[-1].end) if strata else (0, 0)

    def weight(self, kind: str) -> int:
        return sum(s.weight for s in self.strata[kind])

    @cached_property
    def by_index(self) -> dict[int, Unit]:
        return {u.log_index: u for u in self.units}

    # -- file --------------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        kinds: dict[str, Any] = {}
        for kind in KINDS:
            strata = self.strata[kind]
            start, end = self.kind_range(kind)
            kinds[kind] = {
                "units": end - start,
                "weight": self.weight(kind),
                "draws": self.design.draws if strata else 0,
                "lqasDraws": self.design.lqas.n if strata else 0,
                "strata": [
                    {"id": s.id, "units": s.end - s.start, "weight": s.weight} for s in strata
                ],
            }
        return {
            "format": FRAME_FORMAT,
            "programme": self.programme,
            "period": self.period,
            "logSize": self.log_size,
            "design": self.design.as_json(),
            "kinds": kinds,
        }

    def encode(self) -> bytes:
        parts = [rfc8785.dumps(self.header()), *(u.line() for u in self.units)]
        return b"\n".join(parts) + b"\n"

    @cached_property
    def digest(self) -> bytes:
        return hashlib.sha256(self.encode()).digest()

    @classmethod
    def decode(cls, data: bytes) -> Frame:
        """Parse a frame file strictly: canonical header, sorted unique units, matching totals."""
        if not data.endswith(b"\n"):
            raise IntegrityError("frame: file does not end with a newline")
        lines = data[:-1].split(b"\n")
        try:
            header = orjson.loads(lines[0])
        except orjson.JSONDecodeError as e:
            raise IntegrityError(f"frame: header is not JSON ({e})") from e
        if not isinstance(header, dict) or rfc8785.dumps(header) != lines[0]:
            raise IntegrityError("frame: header is not an RFC 8785 canonical JSON object")
        if header.get("format") != FRAME_FORMAT:
            raise IntegrityError(f"frame: format is not {FRAME_FORMAT}")
        units = [_unit(line, n) for n, line in enumerate(lines[1:], start=2)]
        for n, (a, b) in enumerate(itertools.pairwise(units), start=3):
            if not a < b:
                raise IntegrityError(f"frame line {n}: units are not sorted and unique")
        try:
            frame = cls.build(
                str(header.get("programme")),
                str(header.get("period")),
                _int(header.get("logSize"), "logSize"),
                Design.from_json(header.get("design")),
                units,
            )
        except ValueError as e:
            raise IntegrityError(f"frame: {e}") from e
        if len(frame.units) != len(units):
            raise IntegrityError("frame: a unit has weight 0")
        if frame.header() != header:
            raise IntegrityError(
                "frame: the header's totals, draws or strata do not match its units and design"
            )
        return frame


def _unit(line: bytes, n: int) -> Unit:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise IntegrityError(f"frame line {n}: not JSON ({e})") from e
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(v, str) for v in value[:2])
        or not all(type(v) is int for v in value[2:])
    ):
        raise IntegrityError(f"frame line {n}: not [kind, stratum, log index, weight]")
    unit = Unit(value[0], value[1], value[2], value[3])
    if unit.line() != line:
        raise IntegrityError(f"frame line {n}: not in canonical form")
    if unit.weight < 0:
        raise IntegrityError(f"frame line {n}: negative weight")
    return unit


def _int(value: Any, name: str) -> int:
    if type(value) is not int or value < 0:
        raise IntegrityError(f"frame: {name} is not a non-negative integer")
    return value


def check_label(what: str, value: str) -> str:
    """Programme, period and stratum labels: 1–64 of ``A–Z a–z 0–9 . _ -``, not starting with
    a dot or dash (they name folders and appear in log entries)."""
    if not _LABEL.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return value


def units_of(frame: Frame, kind: str) -> Sequence[Unit]:
    start, end = frame.kind_range(kind)
    return frame.units[start:end]
