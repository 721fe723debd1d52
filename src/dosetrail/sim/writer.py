"""Streaming output: one EPCIS document per party per capture day, written when the day ends.

Only the current day's events (and documents held back for a later capture day, see backdating)
are in memory, so a national run needs little RAM. Events in a document are ordered by UTC event
time, then emission order; documents are compact JSON-LD (``dosetrail epcis convert`` pretty-prints)
and, with ``xml=True``, the same events as an XML document beside it. Events carrying tags (ground
truth) are hashed with the CBV 2.0 canonical hash as they are written, and their place (document,
index) reported, so truth.json names exactly the events in the files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from dosetrail.epcis import Document, hash_id, to_json_bytes, to_xml_bytes
from dosetrail.sim.events import CONTEXT, NAMESPACES
from dosetrail.sim.timeline import Clock

__all__ = ["Located", "Sink", "write_json"]

Located = Callable[[str, str, str, int], None]
"""Called for each tagged event written: (tag, hash ID, document path, index in document)."""
_PREFIXES = Document([], dict(NAMESPACES)).prefixes()


def write_json(path: Path, data: Any) -> None:
    """A JSON report file (plan, truth, reality, parties): indented, newline-terminated."""
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))


class Sink:
    """Collects events per (capture day, party) and writes each day's documents at its end."""

    def __init__(self, out: Path, clock: Clock, located: Located, *, xml: bool = False) -> None:
        self.out = out
        self.clock = clock
        self.located = located
        self.xml = xml
        self.events = 0
        self.documents = 0
        self.bytes = 0
        self._seq = 0
        self._days: dict[int, dict[str, list[tuple[int, int, dict[str, Any], tuple[str, ...]]]]]
        self._days = {}
        self._dirs: set[str] = set()

    def emit(
        self, party: str, day: int, key: int, event: dict[str, Any], tags: Iterable[str] = ()
    ) -> None:
        """Queue ``event`` for ``party``'s document of capture day ``day``; ``key`` orders it."""
        self._seq += 1
        parties = self._days.get(day)
        if parties is None:
            parties = self._days[day] = {}
        bucket = parties.get(party)
        if bucket is None:
            bucket = parties[party] = []
        bucket.append((key, self._seq, event, tuple(tags)))

    def pending_days(self) -> list[int]:
        return sorted(self._days)

    def flush(self, day: int) -> None:
        """Write every document of capture day ``day``."""
        parties = self._days.pop(day, None)
        if not parties:
            return
        date = self.clock.date(day)
        header = {"schemaVersion": "2.0", "creationDate": f"{date}T23:59:59+09:00"}
        for party in sorted(parties):
            bucket = parties[party]
            bucket.sort(key=lambda item: (item[0], item[1]))
            events = [item[2] for item in bucket]
            doc = Document(events, dict(NAMESPACES), header=header, context=CONTEXT)
            rel = f"epcis/{party}/{date}.jsonld"
            if party not in self._dirs:
                (self.out / "epcis" / party).mkdir(parents=True, exist_ok=True)
                self._dirs.add(party)
            data = to_json_bytes(doc, indent=False)
            (self.out / rel).write_bytes(data)
            if self.xml:
                (self.out / rel).with_suffix(".xml").write_bytes(to_xml_bytes(doc))
            self.documents += 1
            self.events += len(events)
            self.bytes += len(data)
            for index, item in enumerate(bucket):
                if item[3]:
                    digest = hash_id(item[2], _PREFIXES)
                    for tag in item[3]:
                        self.located(tag, digest, rel, index)

    def close(self) -> None:
        """Write documents still held for later capture days (late, backdated recordings)."""
        for day in self.pending_days():
            self.flush(day)
