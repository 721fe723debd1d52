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
_WRAPPERS = frozenset({"extension", "baseExtension"})
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


def _local(node: object) -> tuple[str, str]:
    """(namespace, local name) of an lxml tag or attribute name."""
    tag = node if isinstance(node, str) else str(node)
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


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
        ns, local = _local(tag)
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
                where = _local(parent.tag)[1] if parent is not None else ""
                local = _local(el.tag)[1]
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
                    self.header["epcisHeader"] = self._header(el)
                    _free(el)
                elif local in ("queryName", "subscriptionID") and where == "QueryResults":
                    self.query[local] = (el.text or "").strip()
                elif local == "VocabularyList" and self.kind == MASTER_DATA_DOCUMENT:
                    self.header["epcisMasterData"] = self._master_data(_parent(el))
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
        for child in _children(root):
            if _local(child.tag)[0]:
                _add(self.header, self.qname(child.tag), self.generic(child))

    def _start_root(self, el: etree._Element) -> None:
        local = _local(el.tag)[1]
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
            if _local(key)[0]:
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
            ns, local = _local(child.tag)
            if ns:
                _add(out, self.qname(child.tag), self.generic(child))
                continue
            if local in _WRAPPERS:
                self._fields(child, out)
                continue
            kind = FIELD_KINDS.get(local)
            if kind is None:
                _add(out, local, self.generic(child))
            else:
                out[local] = self._standard(kind, local, child)

    def _standard(self, kind: Kind, name: str, el: etree._Element) -> Any:
        convert = _CONVERTERS[kind]
        return convert(self, name, el)

    def _text(self, name: str, el: etree._Element) -> str:
        return compact(name, (el.text or "").strip())

    def _epc_list(self, _name: str, el: etree._Element) -> list[str]:
        return [(c.text or "").strip() for c in _children(el)]

    def _quantity_list(self, _name: str, el: etree._Element) -> list[dict[str, Any]]:
        items = []
        for element in _children(el):
            item: dict[str, Any] = {}
            for part in _children(element):
                ns, local = _local(part.tag)
                if ns:
                    _add(item, self.qname(part.tag), self.generic(part))
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
        for item in _children(el):
            entry: dict[str, Any] = {}
            for key, value in item.attrib.items():
                if key == "type":
                    entry[key] = compact(f"{name}.type", value.strip())
                else:
                    entry[self.qname(key) if _local(key)[0] else key] = value
            entry[field] = (item.text or "").strip()
            items.append(entry)
        return items

    def _location(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._fields(el, out)
        return out

    def _persistent(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in _children(el):
            ns, local = _local(child.tag)
            if ns:
                _add(out, self.qname(child.tag), self.generic(child))
            else:
                text = (child.text or "").strip()
                out.setdefault(local, []).append(compact(f"persistentDisposition.{local}", text))
        return out

    def _sensor_list(self, _name: str, el: etree._Element) -> list[dict[str, Any]]:
        elements = []
        for sensor in _children(el):
            if _local(sensor.tag)[1] in _WRAPPERS:
                continue
            out: dict[str, Any] = {}
            for child in _children(sensor):
                ns, local = _local(child.tag)
                if ns or local not in ("sensorMetadata", "sensorReport"):
                    key = self.qname(child.tag)
                    _add(out, key, self.generic(child))
                elif local == "sensorMetadata":
                    out[local] = self._sensor_attributes(child)
                else:
                    out.setdefault(local, []).append(self._sensor_attributes(child))
            elements.append(out)
        return elements

    def _sensor_attributes(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in el.attrib.items():
            ns, local = _local(key)
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
        for child in _children(el):
            _add(out, self.qname(child.tag), self.generic(child))
        return out

    def _error_declaration(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in _children(el):
            ns, local = _local(child.tag)
            if ns:
                _add(out, self.qname(child.tag), self.generic(child))
            elif local in _WRAPPERS:
                for sub in _children(child):
                    _add(out, self.qname(sub.tag), self.generic(sub))
            elif local == "correctiveEventIDs":
                out[local] = [(c.text or "").strip() for c in _children(child)]
            elif local == "reason":
                out[local] = compact("errorDeclaration.reason", (child.text or "").strip())
            else:
                out[local] = (child.text or "").strip()
        return out

    def _ilmd(self, _name: str, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in _children(el):
            if _local(child.tag) == ("", "extension"):
                for sub in _children(child):
                    _add(out, self.qname(sub.tag), self.generic(sub))
            else:
                _add(out, self.qname(child.tag), self.generic(child))
        return out

    def generic(self, el: etree._Element) -> Any:
        """An extension element: text, or an object of attributes (``@``), children, ``#text``."""
        text = (el.text or "").strip()
        kids = _children(el)
        if not el.attrib and not kids:
            return text
        out: dict[str, Any] = {"@" + self.qname(k): v for k, v in el.attrib.items()}
        for child in kids:
            _add(out, self.qname(child.tag), self.generic(child))
        if text:
            out["#text"] = text
        return out

    # -- header ------------------------------------------------------------------------------
    def _header(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in _children(el):
            ns, local = _local(child.tag)
            if local in _WRAPPERS and not ns:
                for sub in _children(child):
                    if _local(sub.tag)[1] == "EPCISMasterData":
                        out["epcisMasterData"] = self._master_data(sub)
                    else:
                        _add(out, self.qname(sub.tag), self.generic(sub))
            elif local == "EPCISMasterData":
                out["epcisMasterData"] = self._master_data(child)
            else:
                _add(out, self.qname(child.tag), self.generic(child))
        return out

    def _master_data(self, el: etree._Element) -> dict[str, Any]:
        vocabularies = []
        for vlist in _children(el):
            if _local(vlist.tag)[1] != "VocabularyList":
                continue
            for vocab in _children(vlist):
                entry: dict[str, Any] = {"type": vocab.get("type", "")}
                elements = []
                for velist in _children(vocab):
                    for velement in _children(velist):
                        elements.append(self._vocabulary_element(velement))
                entry["vocabularyElementList"] = elements
                vocabularies.append(entry)
        return {"vocabularyList": vocabularies}

    def _vocabulary_element(self, el: etree._Element) -> dict[str, Any]:
        out: dict[str, Any] = {"id": el.get("id", "")}
        attributes = []
        for child in _children(el):
            local = _local(child.tag)[1]
            if local == "attribute":
                value = self.generic(child)
                if isinstance(value, dict):
                    value = {k: v for k, v in value.items() if k != "@id"}
                    value = value.get("#text", "") if list(value) == ["#text"] else value
                attributes.append({"id": child.get("id", ""), "attribute": value})
            elif local == "children":
                out["children"] = [(c.text or "").strip() for c in _children(child)]
        if attributes:
            out["attributes"] = attributes
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
    for child in _children(el):
        if child.tag == "extension":
            yield from _wrapped_events(child)
        else:
            yield child


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _add(out: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``; a repeated key becomes an array (XML repetition = JSON array)."""
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]


def _free(el: etree._Element) -> None:
    """Release a processed element and its earlier siblings (bounded memory when streaming)."""
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]
