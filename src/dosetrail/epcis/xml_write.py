"""Write EPCIS documents in the XML binding (EPCIS 2.0 XSD element order).

The writer is the inverse of :mod:`dosetrail.epcis.xml_read`: bare JSON-LD terms (``shipping``,
``po``, ``Temperature``) become the full CBV/GS1 Web URIs XML requires, numbers are written as
``xsd:decimal``, extension objects become elements (``@`` keys become attributes, ``#text`` the
text). Reading the output back gives events with the same canonical hash IDs.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from dosetrail.epcis.document import (
    CAPTURE_JOB,
    DOCUMENT,
    MASTER_DATA_DOCUMENT,
    QUERY_DOCUMENT,
    Document,
    Event,
    used_prefixes,
)
from dosetrail.epcis.structure import (
    EPCIS_NS,
    EPCIS_QUERY_NS,
    FIELD_KINDS,
    LIST_ITEM,
    TYPED_LIST_ITEM,
    XML_ORDER,
    Kind,
)
from dosetrail.epcis.vocabulary import FIELD_VOCABULARIES
from dosetrail.epcis.xml_read import XML_NS
from dosetrail.errors import InvalidDocument, Location

__all__ = ["to_xml_bytes"]

_SENSOR_VOCAB_FIELDS = ("type", "exception", "component")
_SKIP = frozenset({"@context", "comment", "rdfs:comment"})


def expand(field: str, value: str) -> str:
    """A bare JSON-LD term of ``field``'s vocabulary as the Web URI XML needs; else unchanged."""
    vocab = FIELD_VOCABULARIES.get(field)
    return vocab.web_prefix + value if vocab is not None and value in vocab.terms else value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f") if math.isfinite(value) else repr(value)
    if value is None:
        return ""
    return str(value)


class _Writer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.namespaces = {**doc.namespaces}
        prefixes = doc.prefixes()
        for prefix in used_prefixes(doc.events, prefixes):
            self.namespaces.setdefault(prefix, prefixes[prefix])
        self.event_index: int | None = None

    def tag(self, key: str) -> str:
        prefix, sep, local = key.partition(":")
        if not sep:
            return key
        if prefix == "xml":
            return f"{{{XML_NS}}}{local}"
        uri = self.namespaces.get(prefix)
        if uri is None:
            raise InvalidDocument(
                f"prefix {prefix!r} of {key!r} is not declared in @context",
                Location(self.doc.name, self.event_index, key),
            )
        return f"{{{uri}}}{local}"

    def document(self) -> etree._Element:
        doc = self.doc
        if doc.kind == CAPTURE_JOB:
            root = etree.Element(f"{{{EPCIS_NS}}}{CAPTURE_JOB}", nsmap={"epcis": EPCIS_NS})
            self.fill(root, doc.header)
            return root
        if doc.kind == MASTER_DATA_DOCUMENT:
            return self.master_data_document()
        query = doc.kind == QUERY_DOCUMENT
        ns_root = EPCIS_QUERY_NS if query else EPCIS_NS
        nsmap: dict[str | None, str] = {
            ("epcisq" if query else "epcis"): ns_root,
            **{p: u for p, u in self.namespaces.items() if p not in ("epcis", "epcisq", "xml")},
        }
        name = QUERY_DOCUMENT if query else DOCUMENT
        root = etree.Element(f"{{{ns_root}}}{name}", nsmap=nsmap)
        header = {k: v for k, v in doc.header.items() if not k.startswith("@")}
        root.set("schemaVersion", _text(header.pop("schemaVersion", "2.0")))
        created = header.pop("creationDate", None) or datetime.now(UTC).isoformat(
            timespec="seconds"
        )
        root.set("creationDate", _text(created))
        epcis_header = header.pop("epcisHeader", None)
        for key, value in header.items():
            if isinstance(value, str | int | float | bool):
                root.set(self.tag(key), _text(value))
        if isinstance(epcis_header, dict):
            self.header(etree.SubElement(root, "EPCISHeader"), epcis_header)
        body = etree.SubElement(root, "EPCISBody")
        if query:
            results = etree.SubElement(body, f"{{{EPCIS_QUERY_NS}}}QueryResults")
            for key in ("subscriptionID", "queryName"):
                if key in doc.query:
                    etree.SubElement(results, key).text = _text(doc.query[key])
            if "queryName" not in doc.query:
                etree.SubElement(results, "queryName").text = "SimpleEventQuery"
            body = etree.SubElement(results, "resultsBody")
        events = etree.SubElement(body, "EventList")
        for i, event in enumerate(doc.events):
            self.event_index = i
            self.event(events, event)
        self.event_index = None
        for key, value in header.items():  # document-level extensions follow the body (XSD)
            if isinstance(value, dict | list):
                self.generic(root, key, value)
        return root

    def master_data_document(self) -> etree._Element:
        ns = "urn:epcglobal:epcis-masterdata:xsd:2"
        root = etree.Element(f"{{{ns}}}{MASTER_DATA_DOCUMENT}", nsmap={"epcismd": ns})
        header = dict(self.doc.header)
        root.set("schemaVersion", _text(header.pop("schemaVersion", "2.0")))
        created = header.pop("creationDate", None) or datetime.now(UTC).isoformat(
            timespec="seconds"
        )
        root.set("creationDate", _text(created))
        data = header.get("epcisMasterData", {})
        self.master_data(etree.SubElement(root, "EPCISBody"), data, wrapped=False)
        return root

    def header(self, parent: etree._Element, header: dict[str, Any]) -> None:
        for key, value in header.items():
            if key == "epcisMasterData" and isinstance(value, dict):
                self.master_data(etree.SubElement(parent, "extension"), value)
            else:
                self.generic(parent, key, value)

    def master_data(
        self, parent: etree._Element, data: dict[str, Any], *, wrapped: bool = True
    ) -> None:
        holder = etree.SubElement(parent, "EPCISMasterData") if wrapped else parent
        vlist = etree.SubElement(holder, "VocabularyList")
        for vocab in data.get("vocabularyList", []):
            v = etree.SubElement(vlist, "Vocabulary", type=_text(vocab.get("type", "")))
            elements = etree.SubElement(v, "VocabularyElementList")
            for item in vocab.get("vocabularyElementList", []):
                ve = etree.SubElement(elements, "VocabularyElement", id=_text(item.get("id", "")))
                for attr in item.get("attributes", []):
                    a = etree.SubElement(ve, "attribute", id=_text(attr.get("id", "")))
                    value = attr.get("attribute", "")
                    if isinstance(value, dict):
                        self.fill(a, value)
                    else:
                        a.text = _text(value)
                if item.get("children"):
                    kids = etree.SubElement(ve, "children")
                    for child in item["children"]:
                        etree.SubElement(kids, "id").text = _text(child)

    def event(self, parent: etree._Element, event: Event) -> None:
        etype = event["type"]
        if etype in XML_ORDER:
            el = etree.SubElement(parent, etype)
            order = XML_ORDER[etype]
        else:  # an extension event type lives in <EventList><extension> (EPCIS 2.0 XSD)
            wrapper = parent.find("extension")
            if wrapper is None:
                wrapper = etree.SubElement(parent, "extension")
            el = etree.SubElement(wrapper, self.tag(etype))
            order = tuple(k for k in event if k in FIELD_KINDS)
        for key in order:
            if key in event:
                self.standard(el, key, event[key])
        for key, value in event.items():
            if key == "type" or key in order or key in _SKIP:
                continue
            if key.startswith("@"):
                el.set(self.tag(key[1:]), _text(value))
            else:
                self.generic(el, key, value)

    def standard(self, parent: etree._Element, key: str, value: Any) -> None:
        kind = FIELD_KINDS[key]
        if kind is Kind.TEXT:
            etree.SubElement(parent, key).text = expand(key, _text(value))
        elif kind is Kind.EPC_LIST:
            el = etree.SubElement(parent, key)
            for epc in _as_list(value):
                etree.SubElement(el, LIST_ITEM[key]).text = _text(epc)
        elif kind is Kind.QUANTITY_LIST:
            el = etree.SubElement(parent, key)
            for q in _as_list(value):
                if not isinstance(q, dict):
                    continue
                item = etree.SubElement(el, "quantityElement")
                for field in ("epcClass", "quantity", "uom"):
                    if field in q:
                        etree.SubElement(item, field).text = _text(q[field])
                self.extensions(item, q, ("epcClass", "quantity", "uom"))
        elif kind is Kind.TYPED_LIST:
            el = etree.SubElement(parent, key)
            item_name = TYPED_LIST_ITEM[key]
            for entry in _as_list(value):
                if not isinstance(entry, dict):
                    continue
                item = etree.SubElement(el, item_name)
                if "type" in entry:
                    item.set("type", expand(f"{key}.type", _text(entry["type"])))
                item.text = _text(entry.get(item_name, ""))
        elif kind is Kind.LOCATION:
            if not isinstance(value, dict):
                value = {"id": value}
            el = etree.SubElement(parent, key)
            etree.SubElement(el, "id").text = _text(value.get("id", ""))
            self.extensions(el, value, ("id",))
        elif kind is Kind.PERSISTENT_DISPOSITION:
            el = etree.SubElement(parent, key)
            for field in ("unset", "set"):
                for disp in _as_list(value.get(field, []) if isinstance(value, dict) else []):
                    etree.SubElement(el, field).text = expand(f"{key}.{field}", _text(disp))
        elif kind is Kind.SENSOR_LIST:
            self.sensors(etree.SubElement(parent, key), _as_list(value))
        elif kind is Kind.ERROR_DECLARATION:
            value = value if isinstance(value, dict) else {}
            el = etree.SubElement(parent, key)
            if "declarationTime" in value:
                etree.SubElement(el, "declarationTime").text = _text(value["declarationTime"])
            if "reason" in value:
                text = expand("errorDeclaration.reason", _text(value["reason"]))
                etree.SubElement(el, "reason").text = text
            if "correctiveEventIDs" in value:
                ids = etree.SubElement(el, "correctiveEventIDs")
                for cid in _as_list(value["correctiveEventIDs"]):
                    etree.SubElement(ids, "correctiveEventID").text = _text(cid)
            self.extensions(el, value, ("declarationTime", "reason", "correctiveEventIDs"))
        else:  # Kind.ILMD
            self.extensions(
                etree.SubElement(parent, key), value if isinstance(value, dict) else {}, ()
            )

    def sensors(self, parent: etree._Element, elements: list[Any]) -> None:
        for element in elements:
            if not isinstance(element, dict):
                continue
            el = etree.SubElement(parent, "sensorElement")
            meta = element.get("sensorMetadata")
            if isinstance(meta, dict):
                self.sensor_attributes(etree.SubElement(el, "sensorMetadata"), meta)
            reports = element.get("sensorReport", [])
            for report in _as_list(reports):
                if isinstance(report, dict):
                    self.sensor_attributes(etree.SubElement(el, "sensorReport"), report)
            self.extensions(el, element, ("sensorMetadata", "sensorReport"))

    def sensor_attributes(self, el: etree._Element, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if isinstance(value, dict | list):
                self.generic(el, key, value)
                continue
            text = _text(value)
            if key in _SENSOR_VOCAB_FIELDS:
                text = expand(f"sensorReport.{key}", text)
            el.set(self.tag(key), text)

    def extensions(self, el: etree._Element, obj: dict[str, Any], known: tuple[str, ...]) -> None:
        for key, value in obj.items():
            if key not in known and key not in _SKIP:
                self.generic(el, key, value)

    def generic(self, parent: etree._Element, key: str, value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                self.generic(parent, key, item)
            return
        el = etree.SubElement(parent, self.tag(key))
        if isinstance(value, dict):
            self.fill(el, value)
        else:
            el.text = _text(value)

    def fill(self, el: etree._Element, value: dict[str, Any]) -> None:
        for key, sub in value.items():
            if key in _SKIP or key.startswith("@xmlns"):
                continue
            if key == "#text":
                el.text = _text(sub)
            elif key.startswith("@"):
                el.set(self.tag(key[1:]), _text(sub))
            else:
                self.generic(el, key, sub)


def to_xml_bytes(doc: Document) -> bytes:
    """Serialise ``doc`` as an EPCIS 2.0 XML document (UTF-8, indented)."""
    root = _Writer(doc).document()
    etree.indent(root, space="  ")
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out + b"\n"
