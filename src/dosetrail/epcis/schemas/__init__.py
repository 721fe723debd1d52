"""The GS1 EPCIS 2.0 JSON Schema and XSDs, loaded once (see NOTICE.md for their source)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson
from lxml import etree

__all__ = ["NOTICE", "json_schema", "xml_schema"]

NOTICE = str(resources.files(__package__).joinpath("NOTICE.md"))

_XSD_ROOTS = {
    "urn:epcglobal:epcis:xsd:2": "EPCglobal-epcis-2_0.xsd",
    "urn:epcglobal:epcis-query:xsd:2": "EPCglobal-epcis-query-2_0.xsd",
    "urn:epcglobal:epcis-masterdata:xsd:2": "EPCglobal-epcis-masterdata-2_0.xsd",
}


@cache
def json_schema() -> dict[str, Any]:
    """The inlined EPCIS 2.0 JSON Schema (draft-07)."""
    text = resources.files(__package__).joinpath("EPCIS-JSON-Schema.json").read_bytes()
    schema: dict[str, Any] = orjson.loads(text)
    return schema


@cache
def xml_schema() -> etree.XMLSchema:
    """One XML Schema accepting EPCIS documents, query documents, master data and capture jobs."""
    folder = resources.files(__package__).joinpath("xsd")
    imports = "".join(
        f'<xsd:import namespace="{ns}" schemaLocation="{folder.joinpath(name)}"/>'
        for ns, name in _XSD_ROOTS.items()
    )
    wrapper = f'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">{imports}</xsd:schema>'
    return etree.XMLSchema(etree.XML(wrapper))
