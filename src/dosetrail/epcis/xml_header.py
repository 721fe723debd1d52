"""EPCIS header and master data in the XML binding (EPCIS 2.0 §7.2.1 / §7.5), as JSON-LD.

Master data vocabularies become ``{"vocabularyList": [{"type", "vocabularyElementList":
[{"id", "attributes": [{"id", "attribute"}], "children": [...]}]}]}`` as in the JSON binding;
anything else in the header (the SBDH) is kept generically, by qualified name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from dosetrail.epcis.xml_names import WRAPPERS, add, children, split_tag

if TYPE_CHECKING:
    from dosetrail.epcis.xml_read import XmlReader

__all__ = ["header", "master_data"]


# -- header ------------------------------------------------------------------------------
def header(reader: XmlReader, el: etree._Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in children(el):
        ns, local = split_tag(child.tag)
        if local in WRAPPERS and not ns:
            for sub in children(child):
                if split_tag(sub.tag)[1] == "EPCISMasterData":
                    out["epcisMasterData"] = master_data(reader, sub)
                else:
                    add(out, reader.qname(sub.tag), reader.generic(sub))
        elif local == "EPCISMasterData":
            out["epcisMasterData"] = master_data(reader, child)
        else:
            add(out, reader.qname(child.tag), reader.generic(child))
    return out


def master_data(reader: XmlReader, el: etree._Element) -> dict[str, Any]:
    vocabularies = []
    for vlist in children(el):
        if split_tag(vlist.tag)[1] != "VocabularyList":
            continue
        for vocab in children(vlist):
            entry: dict[str, Any] = {"type": vocab.get("type", "")}
            elements = []
            for velist in children(vocab):
                for velement in children(velist):
                    elements.append(_vocabulary_element(reader, velement))
            entry["vocabularyElementList"] = elements
            vocabularies.append(entry)
    return {"vocabularyList": vocabularies}


def _vocabulary_element(reader: XmlReader, el: etree._Element) -> dict[str, Any]:
    out: dict[str, Any] = {"id": el.get("id", "")}
    attributes = []
    for child in children(el):
        local = split_tag(child.tag)[1]
        if local == "attribute":
            value = reader.generic(child)
            if isinstance(value, dict):
                value = {k: v for k, v in value.items() if k != "@id"}
                value = value.get("#text", "") if list(value) == ["#text"] else value
            attributes.append({"id": child.get("id", ""), "attribute": value})
        elif local == "children":
            out["children"] = [(c.text or "").strip() for c in children(child)]
    if attributes:
        out["attributes"] = attributes
    return out
