"""What an EPCIS 2.0 event is made of: field kinds and their order.

One table serves the XML reader and writer, the validator and the canonical hash, so that the
three can never disagree about, say, which list holds ``quantityElement`` items. Field order per
event type follows the EPCIS 2.0 XSD (``EPCglobal-epcis-2_0.xsd``); the JSON-LD binding (EPCIS 2.0
§10) uses the same names with lists flattened to arrays.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "ACTIONS",
    "EVENT_TYPES",
    "FIELD_KINDS",
    "HEAD_FIELDS",
    "LIST_ITEM",
    "SENSOR_METADATA_FIELDS",
    "SENSOR_NUMBER_FIELDS",
    "SENSOR_REPORT_FIELDS",
    "STANDARD_CONTEXT_PREFIXES",
    "TYPED_LIST_ITEM",
    "XML_ORDER",
    "Kind",
    "is_event_type",
    "is_extension_key",
]

EPCIS_NS = "urn:epcglobal:epcis:xsd:2"
EPCIS_QUERY_NS = "urn:epcglobal:epcis-query:xsd:2"
SBDH_NS = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"

EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
ACTIONS = ("ADD", "OBSERVE", "DELETE")


class Kind(Enum):
    """How a standard field is represented."""

    TEXT = "text"  # a single string (URI, timestamp, code)
    EPC_LIST = "epc_list"  # array of EPC URIs; XML items <epc>
    QUANTITY_LIST = "quantity_list"  # array of {epcClass, quantity, uom}; XML <quantityElement>
    TYPED_LIST = "typed_list"  # array of {type, <item>}; XML <item type="...">value</item>
    LOCATION = "location"  # {id, extensions...}
    PERSISTENT_DISPOSITION = "persistent_disposition"  # {set: [...], unset: [...]}
    SENSOR_LIST = "sensor_list"  # array of sensorElement
    ERROR_DECLARATION = "error_declaration"
    ILMD = "ilmd"  # extensions only


FIELD_KINDS: dict[str, Kind] = {
    "eventTime": Kind.TEXT,
    "recordTime": Kind.TEXT,
    "eventTimeZoneOffset": Kind.TEXT,
    "eventID": Kind.TEXT,
    "certificationInfo": Kind.TEXT,
    "errorDeclaration": Kind.ERROR_DECLARATION,
    "parentID": Kind.TEXT,
    "action": Kind.TEXT,
    "bizStep": Kind.TEXT,
    "disposition": Kind.TEXT,
    "transformationID": Kind.TEXT,
    "epcList": Kind.EPC_LIST,
    "childEPCs": Kind.EPC_LIST,
    "inputEPCList": Kind.EPC_LIST,
    "outputEPCList": Kind.EPC_LIST,
    "quantityList": Kind.QUANTITY_LIST,
    "childQuantityList": Kind.QUANTITY_LIST,
    "inputQuantityList": Kind.QUANTITY_LIST,
    "outputQuantityList": Kind.QUANTITY_LIST,
    "bizTransactionList": Kind.TYPED_LIST,
    "sourceList": Kind.TYPED_LIST,
    "destinationList": Kind.TYPED_LIST,
    "readPoint": Kind.LOCATION,
    "bizLocation": Kind.LOCATION,
    "persistentDisposition": Kind.PERSISTENT_DISPOSITION,
    "sensorElementList": Kind.SENSOR_LIST,
    "ilmd": Kind.ILMD,
}

LIST_ITEM = {"epcList": "epc", "childEPCs": "epc", "inputEPCList": "epc", "outputEPCList": "epc"}
TYPED_LIST_ITEM = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}

HEAD_FIELDS = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "errorDeclaration",
    "certificationInfo",
)
_TAIL = ("sourceList", "destinationList", "sensorElementList", "persistentDisposition")
_WHERE = ("bizStep", "disposition", "readPoint", "bizLocation")

# Element order per event type after the common head (EPCIS 2.0 XSD, complexType *EventType).
XML_ORDER: dict[str, tuple[str, ...]] = {
    "ObjectEvent": (
        *HEAD_FIELDS,
        "epcList",
        "action",
        *_WHERE,
        "bizTransactionList",
        "quantityList",
        *_TAIL,
        "ilmd",
    ),
    "AggregationEvent": (
        *HEAD_FIELDS,
        "parentID",
        "childEPCs",
        "action",
        *_WHERE,
        "bizTransactionList",
        "childQuantityList",
        *_TAIL,
    ),
    "TransactionEvent": (
        *HEAD_FIELDS,
        "bizTransactionList",
        "parentID",
        "epcList",
        "action",
        *_WHERE,
        "quantityList",
        *_TAIL,
    ),
    "TransformationEvent": (
        *HEAD_FIELDS,
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        *_WHERE,
        "bizTransactionList",
        *_TAIL,
        "ilmd",
    ),
    "AssociationEvent": (
        *HEAD_FIELDS,
        "parentID",
        "childEPCs",
        "childQuantityList",
        "action",
        *_WHERE,
        "bizTransactionList",
        *_TAIL,
    ),
}

SENSOR_METADATA_FIELDS = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
SENSOR_REPORT_FIELDS = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
)
SENSOR_NUMBER_FIELDS = frozenset(
    {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)

# Prefixes the standard EPCIS 2.0 JSON-LD context defines (epcis-context.jsonld).
STANDARD_CONTEXT_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}


def is_extension_key(key: str) -> bool:
    """A user extension is a namespaced name (``prefix:local`` or ``{uri}local``)."""
    return ":" in key or key.startswith("{")


def is_event_type(value: object) -> bool:
    """One of the five EPCIS 2.0 event types, or a namespaced extension type (``ex:MyEvent``)."""
    return isinstance(value, str) and (value in EVENT_TYPES or (":" in value and " " not in value))
