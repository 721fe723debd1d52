"""Read the EPCIS 2.0 XML binding into JSON-LD shaped events, streaming.

Events are converted one by one as their end tag is parsed and then freed, so a document of any
size is read in bounded memory. The parser never resolves entities, loads DTDs or touches the
network (no XXE, no entity bombs). EPCIS 1.x ``<extension>``/``<baseExtension>`` wrappers are
unwrapped, so 1.2 documents read as their 2.0 equivalents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from lxml import etree

from dosetrail.epcis.document import (
    CAPTURE_JOB,
    DOCUMENT,
    MASTER_DATA_DOCUMENT,
    QUERY_DOCUMENT,
    Event,
)
from dosetrail.epcis.structure import (
    EPCIS_QUERY_NS,
    EVENT_TYPES,
    FIELD_KINDS,
    LIST_ITEM,
    SENSOR_NUMBER_FIELDS,
    TYPED_LIST_ITEM,
    Kind,
)
from dosetrail.epcis.vocabulary import compact_field_value as compact
from dosetrail.epcis.xml_header import header, master_data
from dosetrail.epcis.xml_names import WRAPPERS, add, children, split_tag
from dosetrail.errors import Location, MalformedInput, NotEpcis

__all__ = ["XmlReader", "number"]

_CORE_NAMESPACES = frozenset(
    {
        "urn:epcglobal:epcis:xsd:2",
        "urn:epcglobal:epcis:xsd:1",
        EPCIS_QUERY_NS,
        "urn:epcglobal:epcis-query:xsd:1",
        "urn:epcglobal:epcis-masterdata:xsd:2",
        "urn:epcglobal:epcis-masterdata:xsd:1",
        "urn:epcglobal:xsd:1",
    }
)
_ROOTS = {
    "EPCISDocument": DOCUMENT,
    "EPCISQueryDocument": QUERY_DOCUMENT,
    MASTER_DATA_DOCUMENT: MASTER_DATA_DOCUMENT,
    CAPTURE_JOB: CAPTURE_JOB,
}
_WATCHED = (
    *(f"{{*}}{root}" for root in ("EPCISDocument", "EPCISQueryDocument", MASTER_DATA_DOCUMENT)),
    f"{{*}}{CAPTURE_JOB}",
    *EVENT_TYPES,
    "extension",
    "EPCISHeader",
    "queryName",
    "subscriptionID",
    "VocabularyList",
)
XML_NS = "http://www.w3.org/XML/1998/namespace"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
# Standard vocabulary values are written as bare JSON-LD terms (``shipping``), as the JSON binding
# requires; CBV 1.x URNs and Web URIs of standard terms both map to them (compact_field_value).
_SENSOR_VOCAB_FIELDS = ("type", "exception", "component")


def number(text: str) -> int | float | str:
    """A decimal in XML text as a JSON number (int when integral); other text unchanged."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    if value == value.to_integral_value() and "." not in text and "e" not in text.lower():
        return int(value)
    return float(text)


class XmlReader:
    """Streaming reader for one XML document; iterate :meth:`events` once."""

    def __init__(self, source: str | IO[bytes], name: str) -> None:
        self.source = source
        self.name = name
        self.namespaces: dict[str, str] = {}
        self._prefix_of: dict[str, str] = {XML_NS: "xml"}
        self.kind = DOCUMENT
        self.header: dict[str, Any] = {}
        self.query: dict[str, Any] = {}
        self.event_lines: list[int] = []  # source line of each event, to place XSD errors

    # -- names -------------------------------------------------------------------------------
    def _declare(self, prefix: str, uri: str) -> None:
        if uri in _CORE_NAMESPACES or uri in self._prefix_of:
            return
        base = prefix or "ns"
        candidate, n = base, 1
        while candidate in self.namespaces and self.namespaces[candidate] != uri:
            n += 1
            candidate = f"{base}{n}"
        self.namespaces[candidate] = uri
        self._prefix_of[uri] = candidate

    def qname(self, tag: object) -> str:
        """``{uri}local`` as ``prefix:local`` using this document's prefixes."""
        ns, local = split_tag(tag)
        if not ns:
            return local
        if ns not in self._prefix_of:
            self._declare("ns", ns)
        return f"{self._prefix_of[ns]}:{local}"

    # -- streaming ---------------------------------------------------------------------------
    def events(self) -> Iterator[Event]:
        # Only the elements named here reach Python; everything inside an event is read from
        # the finished subtree, which keeps the per-event cost low.
        parser = etree.iterparse(
            self.source,
            events=("start", "end", "start-ns"),
            tag=_WATCHED,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
            huge_tree=False,
        )
        index = 0
        root: etree._Element | None = None
        try:
            for action, item in parser:
                if isinstance(item, tuple):  # start-ns: (prefix, uri)
                    self._declare(item[0] or "", item[1])
                    continue
                if not isinstance(item, etree._Element):
                    continue
                el = item
                if root is None:
                    root = el.getroottree().getroot()
                    self._start_root(root)
                    if el is root:
                        continue
                if action == "start":
                    continue
                parent = el.getparent()
                where = split_tag(parent.tag)[1] if parent is not None else ""
                local = split_tag(el.tag)[1]
                if where == "EventList" and local in EVENT_TYPES:
                    yield self.event(el, index)
                    index += 1
                    _free(el)
                elif local == "extension" and where == "EventList":
                    for child in _wrapped_events(el):  # extension types, EPCIS 1.x wrappers
                        yield self.event(child, index)
                        index += 1
                    _free(el)
                elif local == "EPCISHeader" and parent is root:
                    self.header["epcisHeader"] = header(self, el)
                    _free(el)
                elif local in ("queryName", "subscriptionID") and where == "QueryResults":
                    self.query[local] = (el.text or "").strip()
                elif local == "VocabularyList" and self.kind == MASTER_DATA_DOCUMENT:
                    self.header["epcisMasterData"] = master_data(self, _parent(el))
        except etree.XMLSyntaxError as e:
            raise MalformedInput(f"not well-formed XML: {e}", Location(self.name)) from e
        if root is None:
            root = parser.root
            if root is None:
                raise MalformedInput("empty XML document", Location(self.name))
            self._start_root(root)
        self._finish_root(root)

    def _finish_root(self, root: etree._Element) -> None:
        """Document-level extensions (and a capture job's content) once the root is complete."""
        if self.kind == CAPTURE_JOB:
            job = self.generic(root)
            self.header.update(job if isinstance(job, dict) else {})
            return
        for child in children(root):
            if split_tag(child.tag)[0]:
                add(self.header, self.qname(child.tag), self.generic(child))

    def _start_root(self, el: etree._Element) -> None:
        local = split_tag(el.tag)[1]
        if local not in _ROOTS:
            raise NotEpcis(
                f"root element <{local}> is not an EPCIS document "
                f"(expected one of {', '.join(_ROOTS)})",
                Location(self.name),
            )
        self.kind = _ROOTS[local]
        if self.kind == CAPTURE_JOB:
            return
        for key, value in el.attrib.items():
            if split_tag(key)[0]:
                self.header[self.qname(key)] = value
            else:
                self.header[key] = value

    # -- events ------------------------------------------------------------------------------
    def event(self, el: etree._Element, index: int) -> Event:
        """Convert one event element to its JSON-LD form."""
        self.event_lines.append(el.sourceline or 0)
        out: Event = {"type": self.qname(el.tag)}
        for key, value in el.attrib.items():
            out["@" + self.qname(key)] = value
        try:
            self._fields(el, out)
        except RecursionError as e:
            raise MalformedInput("nesting too deep", Location(self.name, index)) from e
        return out

    def _fields(self, parent: etree._Element, out: Event) -> None:
        for child in parent:
            ns, local = split_tag(child.tag)
            if ns:
                add(out, self.qname(child.tag), self.generic(child))
                continue
            if local in WRAPPERS:
                self._fields(child, out)
                continue
            kind = FIELD_KINDS.get(local)
            if kind is None:
                add(out, local, self.generic(child))
            else:
                out[local] = self._standard(kind, local, child)

    def _standard(self, kind: Kind, name: str, el: etree._Element) -> Any:
        convert = _CONVERTERS[kind]
        return convert(self, name, el)

    def _text(self, name: str, el: etree._Element) -> str:
        return compact(name, (el.text or "").strip())

    def _epc_list(self, _name: str, el: etree._Element) -> list[str]:
        return [(c.text or "").strip() for c in children(el)]

    def _quantity_list(self, _name: str, el: etree._Element) -> list[dict[str, Any]]:
        items = []
        for element in children(el):
            item: dict[str, Any] = {}
            for part in children(element):
                ns, local = split_tag(part.tag)
                if ns:
                    add(item, self.qname(part.tag), self.generic(part))
                elif local == "quantity":
                    if part.get(XSI_NIL) not in ("true", "1"):
                        item[local] = number((part.text or "").strip())
                else:
                    item[local] = (part.text or "").strip()
            items.append(item)
        return items

    def _typed_list(self, name: str, el: etree._Element) -> list[dict[str, Any]]:
        field = TYPED_LIST_ITEM[name]
        items = []
        for item in children(el):
            entry: dict[str, Any] = {}
            for key, value in item.attrib.items():
                if key == "type":
                    entry[key] = compact(f"{name}.type", value.strip())
                else:
                    entry[self.qname(key) if split_tag(key)[0] else key] = value
            entry[field] = (item.text or "").strip()
            items.append(entry)
        return items

    def _location(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._fields(el, out)
        return out

    def _persistent(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in children(el):
            ns, local = split_tag(child.tag)
            if ns:
                add(out, self.qname(child.tag), self.generic(child))
            else:
                text = (child.text or "").strip()
                out.setdefault(local, []).append(compact(f"persistentDisposition.{local}", text))
        return out

    def _sensor_list(self, _name: str, el: etree._Element) -> list[dict[str, Any]]:
        elements = []
        for sensor in children(el):
            if split_tag(sensor.tag)[1] in WRAPPERS:
                continue
            out: dict[str, Any] = {}
            for child in children(sensor):
                ns, local = split_tag(child.tag)
                if ns or local not in ("sensorMetadata", "sensorReport"):
                    key = self.qname(child.tag)
                    add(out, key, self.generic(child))
                elif local == "sensorMetadata":
                    out[local] = self._sensor_attributes(child)
                else:
                    out.setdefault(local, []).append(self._sensor_attributes(child))
            elements.append(out)
        return elements

    def _sensor_attributes(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in el.attrib.items():
            ns, local = split_tag(key)
            if ns:
                out[self.qname(key)] = value
            elif local in SENSOR_NUMBER_FIELDS:
                out[local] = number(value.strip())
            elif local in _SENSOR_VOCAB_FIELDS:
                out[local] = compact(f"sensorReport.{local}", value.strip())
            elif local == "booleanValue":
                out[local] = {"true": True, "1": True, "false": False, "0": False}.get(
                    value.strip(), value
                )
            else:
                out[local] = value
        for child in children(el):
            add(out, self.qname(child.tag), self.generic(child))
        return out

    def _error_declaration(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in children(el):
            ns, local = split_tag(child.tag)
            if ns:
                add(out, self.qname(child.tag), self.generic(child))
            elif local in WRAPPERS:
                for sub in children(child):
                    add(out, self.qname(sub.tag), self.generic(sub))
            elif local == "correctiveEventIDs":
                out[local] = [(c.text or "").strip() for c in children(child)]
            elif local == "reason":
                out[local] = compact("errorDeclaration.reason", (child.text or "").strip())
            else:
                out[local] = (child.text or "").strip()
        return out

    def _ilmd(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in children(el):
            if split_tag(child.tag) == ("", "extension"):
                for sub in children(child):
                    add(out, self.qname(sub.tag), self.generic(sub))
            else:
                add(out, self.qname(child.tag), self.generic(child))
        return out

    def generic(self, el: etree._Element) -> Any:
        """An extension element: text, or an object of attributes (``@``), children, ``#text``."""
        text = (el.text or "").strip()
        kids = children(el)
        if not el.attrib and not kids:
            return text
        out: dict[str, Any] = {"@" + self.qname(k): v for k, v in el.attrib.items()}
        for child in kids:
            add(out, self.qname(child.tag), self.generic(child))
        if text:
            out["#text"] = text
        return out


_Converter = Callable[[XmlReader, str, etree._Element], Any]
_CONVERTERS: dict[Kind, _Converter] = {
    Kind.TEXT: XmlReader._text,
    Kind.EPC_LIST: XmlReader._epc_list,
    Kind.QUANTITY_LIST: XmlReader._quantity_list,
    Kind.TYPED_LIST: XmlReader._typed_list,
    Kind.LOCATION: XmlReader._location,
    Kind.PERSISTENT_DISPOSITION: XmlReader._persistent,
    Kind.SENSOR_LIST: XmlReader._sensor_list,
    Kind.ERROR_DECLARATION: XmlReader._error_declaration,
    Kind.ILMD: XmlReader._ilmd,
}
assert set(_CONVERTERS) == set(Kind)
assert set(LIST_ITEM) <= set(FIELD_KINDS)


def _parent(el: etree._Element) -> etree._Element:
    parent = el.getparent()
    return el if parent is None else parent


def _wrapped_events(el: etree._Element) -> Iterator[etree._Element]:
    """Events inside ``<EventList><extension>``, however deeply 1.x wrappers nest them."""
    for child in children(el):
        if child.tag == "extension":
            yield from _wrapped_events(child)
        else:
            yield child


def _free(el: etree._Element) -> None:
    """Release a processed element and its earlier siblings (bounded memory when streaming)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]
