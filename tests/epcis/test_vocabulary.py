"""CBV 2.0 vocabularies: the term tables against the GS1 JSON-LD contexts in the shared
conformance folder (read here, so the tables cannot drift), and the value forms the CBV 2.0 event
hash vectors expect."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from dosetrail.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    COMPONENT,
    CURIE_PREFIXES,
    DISPOSITION,
    ERROR_REASON,
    FIELD_VOCABULARIES,
    MEASUREMENT_TYPE,
    SENSOR_ALERT_TYPE,
    SOURCE_DESTINATION_TYPE,
    VOCABULARIES,
    Vocabulary,
    cbv_urn_to_web_uri,
    expand_curie,
    expand_field_value,
    is_standard_bizstep,
    is_standard_disposition,
)
from dosetrail.errors import InvalidDocument
from tests.conftest import EPCIS

CONTEXTS = EPCIS / "gs1" / "context"
HASH_VECTORS = EPCIS / "hash"


def _load(path: Path) -> dict[str, Any]:
    context = json.loads(path.read_text(encoding="utf-8"))["@context"]
    assert isinstance(context, dict)
    return context


def _terms(context: dict[str, Any]) -> dict[str, str]:
    """Term → expanded IRI of a term-only JSON-LD context (CURIEs resolved in the context)."""
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith("/")}
    out = {}
    for term, iri in context.items():
        if term.startswith("@") or term in prefixes or not isinstance(iri, str):
            continue
        prefix, _, local = iri.partition(":")
        out[term] = prefixes[prefix] + local
    return out


# ---- the tables against the GS1 context files ----------------------------------------------
@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.name)
def test_terms_match_the_gs1_context_file(vocabulary: Vocabulary) -> None:
    terms = _terms(_load(CONTEXTS / "JSON-LD-Context" / vocabulary.context_file))
    assert set(terms) == vocabulary.terms
    assert all(iri == vocabulary.web_prefix + term for term, iri in terms.items())


def _scoped(root: dict[str, Any], field: str) -> dict[str, Any]:
    """The term context the inlined EPCIS context scopes to ``field`` (parent.field path)."""
    paths: dict[str, list[str | int]] = {
        "bizStep": ["bizStep", "@context"],
        "disposition": ["disposition", "@context"],
        "persistentDisposition.set": ["persistentDisposition", "@context", 0],
        "persistentDisposition.unset": ["persistentDisposition", "@context", 0],
        "bizTransactionList.type": ["bizTransactionList", "@context", "type", "@context"],
        "sourceList.type": ["sourceList", "@context", "type", "@context"],
        "destinationList.type": ["destinationList", "@context", "type", "@context"],
        "errorDeclaration.reason": ["errorDeclaration", "@context", "reason", "@context"],
    }
    report = ["sensorElementList", "@context", "sensorReport", "@context"]
    paths["sensorReport.type"] = [*report, "type", "@context"]
    paths["sensorReport.exception"] = [*report, "exception", "@context"]
    paths["sensorReport.component"] = [*report, "component", "@context"]
    node: Any = root
    for step in paths[field]:
        node = node[step]
    return dict(node)


@pytest.mark.parametrize("field", sorted(FIELD_VOCABULARIES))
def test_field_expansion_matches_the_inlined_epcis_context(field: str) -> None:
    root = _load(CONTEXTS / "epcis-context.jsonld")
    scoped = _scoped(root, field)
    scoped.update({k: v for k, v in root.items() if k in ("cbv", "gs1")})
    terms = _terms(scoped)
    vocabulary = FIELD_VOCABULARIES[field]
    assert set(terms) == vocabulary.terms
    for term, iri in terms.items():
        assert expand_field_value(field, term) == iri


def test_curie_prefixes_match_the_epcis_context() -> None:
    root = _load(CONTEXTS / "epcis-context.jsonld")
    assert dict(CURIE_PREFIXES) == {"cbv:": root["cbv"], "gs1:": root["gs1"]}


def test_simple_context_vocab_prefixes() -> None:
    """``epcis-context-simple.jsonld`` scopes bare strings with ``@vocab`` prefixes. They agree
    with ours except ``exception``, which it maps to ``https://ref.gs1.org/voc/`` while the full
    context and the CBV 2.0 hash vectors use ``https://gs1.org/voc/``; we follow the latter."""
    simple = _load(CONTEXTS / "epcis-context-simple.jsonld")

    def vocab(*path: str) -> str:
        node: Any = simple
        for step in path:
            node = node[step]
        assert isinstance(node, str)
        return node

    assert vocab("bizStep", "@context", "@vocab") == BIZ_STEP.web_prefix
    assert vocab("disposition", "@context", "@vocab") == DISPOSITION.web_prefix
    assert vocab("set", "@context", "@vocab") == DISPOSITION.web_prefix
    btt = vocab("bizTransactionList", "@context", "type", "@context", "@vocab")
    assert btt == BIZ_TRANSACTION_TYPE.web_prefix
    sdt = vocab("sourceList", "@context", "type", "@context", "@vocab")
    assert sdt == SOURCE_DESTINATION_TYPE.web_prefix
    assert vocab("reason", "@context", "@vocab") == ERROR_REASON.web_prefix
    measurement = vocab("sensorReport", "@context", "type", "@context", "@vocab")
    assert measurement == MEASUREMENT_TYPE.web_prefix
    assert vocab("component", "@context", "@vocab") == COMPONENT.web_prefix
    assert vocab("exception", "@context", "@vocab") == "https://ref.gs1.org/voc/"
    assert SENSOR_ALERT_TYPE.web_prefix == "https://gs1.org/voc/"


# ---- the forms the CBV 2.0 hash vectors expect (CBV 2.0 §8.9) ------------------------------
def _verified_lines(name: str) -> list[str]:
    lines = (HASH_VECTORS / f"{name}.prehashes").read_text(encoding="utf-8").splitlines()
    ids = (HASH_VECTORS / f"{name}.hashes").read_text(encoding="utf-8").split()
    digest = [hashlib.sha256(line.encode()).hexdigest() for line in lines]
    return [
        line if i.endswith(f";{d}?ver=CBV2.0") else ""
        for line, i, d in zip(lines, ids, digest, strict=False)
    ]


def _json_fields(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(field path, value) of every vocabulary-valued field of a JSON-LD event."""
    out = []
    for field in ("bizStep", "disposition"):
        if field in event:
            out.append((field, event[field]))
    for key, values in event.get("persistentDisposition", {}).items():
        out += [(f"persistentDisposition.{key}", v) for v in values]
    for field in ("bizTransactionList", "sourceList", "destinationList"):
        out += [(f"{field}.type", e["type"]) for e in event.get(field, []) if "type" in e]
    for element in event.get("sensorElementList", []):
        for report in element.get("sensorReport", []):
            for key in ("type", "exception", "component"):
                if key in report:
                    out.append((f"sensorReport.{key}", report[key]))
    return out


def _xml_fields(event: Any) -> list[tuple[str, str]]:
    out = []
    for node in event.iter():
        if not isinstance(node.tag, str):
            continue
        name = etree.QName(node).localname
        if name in ("bizStep", "disposition") and node.text:
            out.append((name, node.text.strip()))
        elif name in ("set", "unset") and node.text:
            out.append((f"persistentDisposition.{name}", node.text.strip()))
        elif name in ("bizTransaction", "source", "destination") and "type" in node.attrib:
            parent = {"bizTransaction": "bizTransactionList", "source": "sourceList"}
            out.append((f"{parent.get(name, 'destinationList')}.type", node.attrib["type"]))
        elif name == "sensorReport":
            for key in ("type", "exception", "component"):
                if key in node.attrib:
                    out.append((f"sensorReport.{key}", node.attrib[key]))
    return out


def _vector_cases() -> list[tuple[str, str, str, str]]:
    events = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent")
    cases = []
    for prehashes in sorted(HASH_VECTORS.glob("*.prehashes")):
        name = prehashes.stem
        if not (HASH_VECTORS / f"{name}.hashes").exists():
            continue
        lines = _verified_lines(name)
        documents: list[list[list[tuple[str, str]]]] = []
        if (HASH_VECTORS / f"{name}.jsonld").exists():
            body = json.loads((HASH_VECTORS / f"{name}.jsonld").read_text())["epcisBody"]
            event_list = (
                body.get("eventList")
                or body.get("queryResults", {}).get("resultsBody", {}).get("eventList")
                or [body["event"]]
            )
            documents.append([_json_fields(e) for e in event_list])
        if (HASH_VECTORS / f"{name}.xml").exists():
            tree = etree.parse(str(HASH_VECTORS / f"{name}.xml"))
            xml_events = [
                e
                for e in tree.iter()
                if isinstance(e.tag, str) and etree.QName(e).localname in events
            ]
            documents.append([_xml_fields(e) for e in xml_events])
        for fields_per_event in documents:
            for fields, line in zip(fields_per_event, lines, strict=False):
                cases += [(name, field, value, line) for field, value in fields if line]
    return cases


VECTOR_CASES = _vector_cases()


def test_the_vectors_exercise_every_kind_of_vocabulary_field() -> None:
    fields = {field.split(".")[0] for _, field, _, _ in VECTOR_CASES}
    assert fields >= {
        "bizStep",
        "disposition",
        "persistentDisposition",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorReport",
    }
    forms = {value.split(":")[0] for _, _, value, _ in VECTOR_CASES}
    assert forms >= {"urn", "cbv", "gs1", "shipping", "Temperature", "ALARM_CONDITION"}


@pytest.mark.parametrize(
    ("document", "field", "value", "line"),
    VECTOR_CASES,
    ids=[f"{c[0]}-{c[2]}" for c in VECTOR_CASES],
)
def test_hash_vectors_expand_values_as_we_do(
    document: str, field: str, value: str, line: str
) -> None:
    key = field.rpartition(".")[2]  # set, unset, type, exception ... are the pre-hash keys
    assert f"{key}={expand_field_value(field, value)}" in line


# ---- the four forms of a value --------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "urn:epcglobal:cbv:bizstep:shipping",
        "cbv:BizStep-shipping",
    ],
)
def test_four_forms_of_one_bizstep(value: str) -> None:
    assert BIZ_STEP.term(value) == "shipping"
    assert is_standard_bizstep(value)
    assert BIZ_STEP.expand(value) == "https://ref.gs1.org/cbv/BizStep-shipping"
    assert BIZ_STEP.urn(value) == "urn:epcglobal:cbv:bizstep:shipping"


@pytest.mark.parametrize(
    "value",
    [
        "shipped",
        "in_transit",  # a disposition, not a business step
        "https://ref.gs1.org/cbv/Disp-in_transit",
        "urn:epcglobal:cbv:bizstep:vaccinating",
        "http://epcis.example.com/user/vocab/bizstep/exampling",
        "",
    ],
)
def test_not_standard_bizsteps(value: str) -> None:
    assert not is_standard_bizstep(value)
    assert BIZ_STEP.term(value) is None


def test_standard_dispositions() -> None:
    assert is_standard_disposition("in_transit")
    assert is_standard_disposition("urn:epcglobal:cbv:disp:expired")
    assert not is_standard_disposition("shipping")
    assert DISPOSITION.web_uri("damaged") == "https://ref.gs1.org/cbv/Disp-damaged"


@pytest.mark.parametrize(
    ("urn", "uri"),
    [
        ("urn:epcglobal:cbv:bizstep:receiving", "https://ref.gs1.org/cbv/BizStep-receiving"),
        # any suffix: the hash rule converts user extensions of a standard type as well
        ("urn:epcglobal:cbv:bizstep:vaccinating", "https://ref.gs1.org/cbv/BizStep-vaccinating"),
        ("urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("urn:epcglobal:cbv:btt:desadv", "https://ref.gs1.org/cbv/BTT-desadv"),
        ("urn:epcglobal:cbv:sdt:owning_party", "https://ref.gs1.org/cbv/SDT-owning_party"),
        ("urn:epcglobal:cbv:er:did_not_occur", "https://ref.gs1.org/cbv/ER-did_not_occur"),
        # business transaction IDs and master data attributes are not vocabulary values
        ("urn:epcglobal:cbv:bt:5200001000008:4711", "urn:epcglobal:cbv:bt:5200001000008:4711"),
        ("urn:epcglobal:cbv:mda:site", "urn:epcglobal:cbv:mda:site"),
        ("urn:epcglobal:cbv:bizstep", "urn:epcglobal:cbv:bizstep"),
        ("urn:epc:id:sgtin:4012345.011111.1", "urn:epc:id:sgtin:4012345.011111.1"),
    ],
)
def test_cbv_urn_to_web_uri(urn: str, uri: str) -> None:
    assert cbv_urn_to_web_uri(urn) == uri


@pytest.mark.parametrize(
    ("curie", "uri"),
    [
        ("cbv:BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("gs1:Temperature", "https://gs1.org/voc/Temperature"),
        ("example:myField", "example:myField"),
        ("cbv", "cbv"),
    ],
)
def test_expand_curie(curie: str, uri: str) -> None:
    assert expand_curie(curie) == uri


@pytest.mark.parametrize(
    ("field", "value", "expanded"),
    [
        ("sensorReport.type", "Temperature", "https://gs1.org/voc/Temperature"),
        ("sensorReport.type", "gs1:Temperature", "https://gs1.org/voc/Temperature"),
        ("sensorReport.exception", "ALARM_CONDITION", "https://gs1.org/voc/ALARM_CONDITION"),
        ("sensorReport.component", "longitude", "https://ref.gs1.org/cbv/Comp-longitude"),
        ("errorDeclaration.reason", "incorrect_data", "https://ref.gs1.org/cbv/ER-incorrect_data"),
        ("sourceList.type", "location", "https://ref.gs1.org/cbv/SDT-location"),
        ("bizTransactionList.type", "po", "https://ref.gs1.org/cbv/BTT-po"),
        # a bare string outside the vocabulary is not a CBV value: kept as written
        ("bizStep", "vaccinating", "vaccinating"),
        ("sensorReport.type", "Temperatur", "Temperatur"),
        # fields without a vocabulary: only CURIEs and CBV URNs
        ("ilmd", "cbv:Disp-active", "https://ref.gs1.org/cbv/Disp-active"),
        ("ilmd", "shipping", "shipping"),
    ],
)
def test_expand_field_value(field: str, value: str, expanded: str) -> None:
    assert expand_field_value(field, value) == expanded


def test_errors_name_the_field() -> None:
    with pytest.raises(InvalidDocument, match=r"not a standard CBV 2\.0 bizStep") as info:
        BIZ_STEP.web_uri("vaccinating")
    assert info.value.location.field == "bizStep"
    with pytest.raises(InvalidDocument, match=r"no CBV 1\.x URN") as info:
        MEASUREMENT_TYPE.urn("Temperature", field="sensorReport.type")
    assert info.value.location.field == "sensorReport.type"
    with pytest.raises(InvalidDocument, match=r"no CBV 1\.x URN"):
        DISPOSITION.urn("shipping")


def test_public_api() -> None:
    from dosetrail.epcis import vocabulary

    assert vocabulary.__all__ == [
        "BIZ_STEP",
        "BIZ_TRANSACTION_TYPE",
        "COMPONENT",
        "CURIE_PREFIXES",
        "DISPOSITION",
        "ERROR_REASON",
        "FIELD_VOCABULARIES",
        "MEASUREMENT_TYPE",
        "SENSOR_ALERT_TYPE",
        "SOURCE_DESTINATION_TYPE",
        "VOCABULARIES",
        "Vocabulary",
        "cbv_urn_to_web_uri",
        "compact_field_value",
        "expand_curie",
        "expand_field_value",
        "is_standard_bizstep",
        "is_standard_disposition",
    ]
    assert all(hasattr(vocabulary, name) for name in vocabulary.__all__)
