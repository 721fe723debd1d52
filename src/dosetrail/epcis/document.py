"""The in-memory EPCIS document: JSON-LD shaped events plus the namespaces they use.

Events are kept as plain ``dict`` objects in the EPCIS 2.0 JSON-LD binding's compact form
(EPCIS 2.0 §10): that is the form stored in the ledger and put in bundles, and what both the JSON
and XML readers produce. User extensions keep their ``prefix:local`` names; :attr:`namespaces`
says what each prefix means, so the canonical hash can expand them to ``{uri}local``.
XML attributes on extension elements become ``@prefix:local`` keys and mixed text ``#text``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from dosetrail.epcis.structure import STANDARD_CONTEXT_PREFIXES

__all__ = [
    "EPCIS_CONTEXT_URL",
    "Document",
    "Event",
    "EventStream",
    "standalone_event",
    "used_prefixes",
]

Event = dict[str, Any]
EPCIS_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

DOCUMENT = "EPCISDocument"
QUERY_DOCUMENT = "EPCISQueryDocument"
MASTER_DATA_DOCUMENT = "EPCISMasterDataDocument"
CAPTURE_JOB = "EPCISCaptureJob"
NO_EVENT_KINDS = (MASTER_DATA_DOCUMENT, CAPTURE_JOB)  # documents that carry no events


@dataclass(slots=True)
class Document:
    """A whole EPCIS document (or query document) read into memory."""

    events: list[Event]
    namespaces: dict[str, str] = field(default_factory=dict)
    kind: str = DOCUMENT
    header: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    context: Any = field(default_factory=lambda: [EPCIS_CONTEXT_URL])  # as written
    name: str = "<document>"
    event_lines: list[int] = field(default_factory=list)  # XML: source line of each event

    def prefixes(self) -> dict[str, str]:
        """Prefix map for expanding names: the standard context's, overridden by the document's."""
        return {**STANDARD_CONTEXT_PREFIXES, **self.namespaces}


class EventStream(Protocol):
    """Events read one at a time (bounded memory); ``namespaces`` grows as they are read."""

    name: str
    namespaces: dict[str, str]

    def __iter__(self) -> Iterator[Event]: ...

    def prefixes(self) -> dict[str, str]:
        """Prefix map for expanding names (standard context, then the document's)."""
        return {**STANDARD_CONTEXT_PREFIXES, **self.namespaces}


def standalone_event(event: Event, namespaces: dict[str, str]) -> Event:
    """The event with an ``@context`` naming the prefixes it uses, so it can travel alone.

    Stored events and bundle entries are standalone: their hash can be recomputed without the
    document they came in.
    """
    used = used_prefixes(event, namespaces)
    context: list[Any] = [EPCIS_CONTEXT_URL]
    if used:
        context.append({p: namespaces[p] for p in sorted(used)})
    out: Event = {"@context": context}
    out.update((k, v) for k, v in event.items() if k != "@context")
    return out


def used_prefixes(value: Any, namespaces: dict[str, str]) -> set[str]:
    """The prefixes of ``namespaces`` that keys anywhere in ``value`` use."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                name = key[1:] if key.startswith("@") else key
                prefix, sep, _ = name.partition(":")
                if sep and prefix in namespaces:
                    found.add(prefix)
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)
    return found
