"""EPCIS 2.0 / CBV 2.0 rules that the schemas cannot express, checked per event.

Each check names the field it is about, so a problem reads like
``capture.jsonld: event 3: quantityList[0]: quantity 2.5 has no uom``. Sections cited are of
EPCIS 2.0 (§7.4 event types, §7.3.3.3 quantities) and CBV 2.0 (§7 vocabularies).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from dosetrail.epcis.document import Event
from dosetrail.epcis.identifiers import check_identifier
from dosetrail.epcis.structure import ACTIONS, EVENT_TYPES, TYPED_LIST_ITEM, is_extension_key
from dosetrail.epcis.timestamps import TimestampError, is_valid_time, parse_offset, parse_time
from dosetrail.epcis.vocabulary import FIELD_VOCABULARIES, VOCABULARIES, Vocabulary

__all__ = ["check_event"]

_UOM = re.compile(r"[0-9A-Z]{2,3}")
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_EPC_LIST_KEYS = frozenset(_EPC_LISTS)  # lists of URIs: no names inside to check
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")

Found = tuple[str, str]  # (field path, message)


def check_event(event: Event, prefixes: dict[str, str]) -> list[Found]:
    """Every rule violation in ``event`` as (field, message) pairs; empty when it conforms."""
    return list(_check(event, prefixes))


def _check(event: Event, prefixes: dict[str, str]) -> Iterator[Found]:
    etype = event.get("type")
    yield from _times(event)
    yield from _action(event, etype)
    if etype in EVENT_TYPES:
        yield from _what(event, etype)
    for name in ("bizStep", "disposition"):
        if name in event:
            yield from _vocab_value(name, event[name], FIELD_VOCABULARIES[name])
    pd = event.get("persistentDisposition")
    if isinstance(pd, dict):
        for key in ("set", "unset"):
            for i, value in enumerate(_as_list(pd.get(key, []))):
                vocab = FIELD_VOCABULARIES[f"persistentDisposition.{key}"]
                yield from _vocab_value(f"persistentDisposition.{key}[{i}]", value, vocab)
    for name, item in TYPED_LIST_ITEM.items():
        for i, entry in enumerate(_as_list(event.get(name, []))):
            if isinstance(entry, dict):
                if "type" in entry:
                    vocab = FIELD_VOCABULARIES[f"{name}.type"]
                    yield from _vocab_value(f"{name}[{i}].type", entry["type"], vocab)
                if name != "bizTransactionList":
                    yield from _identifier(f"{name}[{i}].{item}", entry.get(item))
    yield from _identifiers(event)
    yield from _quantities(event)
    yield from _sensors(event)
    yield from _prefixes(event, prefixes, "")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- when ----------------------------------------------------------------------------------------
def _time(field: str, value: Any) -> Iterator[Found]:
    if not isinstance(value, str):
        yield field, "must be a date-time string"
        return
    if is_valid_time(value):
        return
    try:
        parse_time(value)
    except TimestampError as e:
        yield field, str(e)


def _times(event: Event) -> Iterator[Found]:
    if "eventTime" not in event:
        yield "eventTime", "is required"
    else:
        yield from _time("eventTime", event["eventTime"])
    if "recordTime" in event:
        yield from _time("recordTime", event["recordTime"])
    offset = event.get("eventTimeZoneOffset")
    if offset is None:
        yield "eventTimeZoneOffset", "is required"
    else:
        try:
            parse_offset(str(offset))
        except TimestampError as e:
            yield "eventTimeZoneOffset", str(e)
    err = event.get("errorDeclaration")
    if isinstance(err, dict):
        if "declarationTime" not in err:
            yield "errorDeclaration.declarationTime", "is required"
        else:
            yield from _time("errorDeclaration.declarationTime", err["declarationTime"])
        if "reason" in err:
            vocab = FIELD_VOCABULARIES["errorDeclaration.reason"]
            yield from _vocab_value("errorDeclaration.reason", err["reason"], vocab)


# -- what ----------------------------------------------------------------------------------------
def _action(event: Event, etype: Any) -> Iterator[Found]:
    action = event.get("action")
    if etype == "TransformationEvent":
        if action is not None:
            yield "action", "a TransformationEvent has no action (EPCIS 2.0 §7.4.6)"
    elif etype in EVENT_TYPES:
        if action is None:
            yield "action", "is required"
        elif action not in ACTIONS:
            yield "action", f"{action!r} is not one of ADD, OBSERVE, DELETE"


def _nonempty(event: Event, *names: str) -> bool:
    return any(bool(event.get(n)) for n in names)


def _what(event: Event, etype: str) -> Iterator[Found]:
    action = event.get("action")
    if etype == "ObjectEvent":
        # Sensor reports about a place may name no objects (EPCIS 2.0 sensor examples do).
        if not _nonempty(event, "epcList", "quantityList", "sensorElementList"):
            yield "epcList", "an ObjectEvent needs a non-empty epcList or quantityList (§7.4.2)"
        if "ilmd" in event and action != "ADD":
            yield "ilmd", "instance/lot master data is only allowed when action is ADD (§7.4.2)"
    elif etype in ("AggregationEvent", "AssociationEvent"):
        needs_parent = etype == "AssociationEvent" or action in ("ADD", "DELETE")
        if needs_parent and not event.get("parentID"):
            yield "parentID", f"is required for an {etype} with action {action} (§7.4.3)"
        if action != "DELETE" and not _nonempty(event, "childEPCs", "childQuantityList"):
            yield "childEPCs", "children may be empty only when action is DELETE (§7.4.3)"
    elif etype == "TransactionEvent":
        if not event.get("bizTransactionList"):
            yield "bizTransactionList", "a TransactionEvent needs at least one (§7.4.4)"
        if action != "DELETE" and not _nonempty(event, "epcList", "quantityList"):
            yield "epcList", "needs a non-empty epcList or quantityList unless DELETE (§7.4.4)"
    elif etype == "TransformationEvent":
        inputs = _nonempty(event, "inputEPCList", "inputQuantityList")
        outputs = _nonempty(event, "outputEPCList", "outputQuantityList")
        if not inputs and not outputs:
            yield "inputEPCList", "a TransformationEvent needs inputs or outputs (§7.4.6)"
        elif "transformationID" not in event and not (inputs and outputs):
            yield (
                "inputEPCList" if not inputs else "outputEPCList",
                "without a transformationID both inputs and outputs are required (§7.4.6)",
            )


def _identifier(field: str, value: Any) -> Iterator[Found]:
    if isinstance(value, str):
        for problem in check_identifier(value):
            yield field, problem


def _identifiers(event: Event) -> Iterator[Found]:
    if "parentID" in event:
        yield from _identifier("parentID", event["parentID"])
    for name in _EPC_LISTS:
        for i, epc in enumerate(_as_list(event.get(name, []))):
            yield from _identifier(f"{name}[{i}]", epc)
    for name in ("readPoint", "bizLocation"):
        where = event.get(name)
        if isinstance(where, dict):
            if not where.get("id"):
                yield f"{name}.id", "is required"
            yield from _identifier(f"{name}.id", where.get("id"))


def _quantities(event: Event) -> Iterator[Found]:
    """EPCIS 2.0 §7.3.3.3: a quantity without uom counts instances and must be an integer."""
    for name in _QUANTITY_LISTS:
        for i, q in enumerate(_as_list(event.get(name, []))):
            field = f"{name}[{i}]"
            if not isinstance(q, dict):
                yield field, "must be an object with epcClass, quantity and uom"
                continue
            if not q.get("epcClass"):
                yield f"{field}.epcClass", "is required"
            else:
                yield from _identifier(f"{field}.epcClass", q["epcClass"])
            qty, uom = q.get("quantity"), q.get("uom")
            if uom is not None and qty is None:
                yield f"{field}.uom", "a unit of measure needs a quantity"
            if uom is not None and not (isinstance(uom, str) and _UOM.fullmatch(uom)):
                yield f"{field}.uom", f"{uom!r} is not a UN/ECE Rec 20 unit code"
            if qty is None:
                continue
            amount = _decimal(qty)
            if amount is None:
                yield f"{field}.quantity", f"{qty!r} is not a number"
            elif amount < 0:
                yield f"{field}.quantity", "must not be negative"
            elif uom is None and amount != amount.to_integral_value():
                yield f"{field}.quantity", f"{qty} has no uom, so it counts items: use an integer"


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _sensors(event: Event) -> Iterator[Found]:
    for i, element in enumerate(_as_list(event.get("sensorElementList", []))):
        if not isinstance(element, dict):
            continue
        meta = element.get("sensorMetadata")
        if isinstance(meta, dict):
            for key in ("time", "startTime", "endTime"):
                if key in meta:
                    yield from _time(f"sensorElementList[{i}].sensorMetadata.{key}", meta[key])
        for j, report in enumerate(_as_list(element.get("sensorReport", []))):
            if not isinstance(report, dict):
                continue
            field = f"sensorElementList[{i}].sensorReport[{j}]"
            if "time" in report:
                yield from _time(f"{field}.time", report["time"])
            if "type" in report:
                vocab = FIELD_VOCABULARIES["sensorReport.type"]
                yield from _vocab_value(f"{field}.type", report["type"], vocab)
            for key in ("value", "minValue", "maxValue", "meanValue", "sDev"):
                if key in report and _decimal(report[key]) is None:
                    yield f"{field}.{key}", f"{report[key]!r} is not a number"


# -- vocabulary and names --------------------------------------------------------------------------
def _vocab_value(field: str, value: Any, vocab: Vocabulary) -> Iterator[Found]:
    """CBV 2.0 §7: a bare term, a CBV URN or a URI in the CBV namespace must name a standard
    term of the field's vocabulary; any other absolute URI is a user vocabulary and fine."""
    if not isinstance(value, str) or not value.strip():
        yield field, "must be a non-empty string"
        return
    if vocab.is_standard(value):
        return
    if ":" not in value:
        yield field, f"{value!r} is not a standard CBV {vocab.name} (use a term or a URI)"
        return
    other = next((v for v in VOCABULARIES if v is not vocab and v.is_standard(value)), None)
    if other is not None and value.startswith(("urn:epcglobal:cbv:", "https://ref.gs1.org/")):
        yield field, f"{value!r} is a CBV {other.name} value, not a {vocab.name}"
    elif (vocab.urn_prefix and value.startswith(vocab.urn_prefix)) or (
        value.startswith(vocab.web_prefix) and vocab.web_prefix.endswith("-")
    ):
        yield field, f"{value!r} is not a standard CBV {vocab.name}"


def _prefixes(value: Any, prefixes: dict[str, str], path: str) -> Iterator[Found]:
    """Extension names must use a prefix declared in @context (or in XML, a namespace)."""
    if isinstance(value, list):
        flat_shapes: set[tuple[str, ...]] = set()  # logger series repeat one shape many times
        for item in value:
            if isinstance(item, dict):
                if not any(isinstance(v, dict | list) for v in item.values()):
                    shape = tuple(item)
                    if shape in flat_shapes:
                        continue
                    flat_shapes.add(shape)
                yield from _prefixes(item, prefixes, path)
            elif isinstance(item, list):
                yield from _prefixes(item, prefixes, path)
        return
    if not isinstance(value, dict):
        return
    for key, sub in value.items():
        name = key[1:] if key.startswith("@") else key
        if key.startswith("@") and key in ("@context", "@id", "@type"):
            continue
        if is_extension_key(name) and not name.startswith("{"):
            prefix = name.partition(":")[0]
            if prefix not in prefixes and "//" not in name:
                yield (path + key).lstrip("."), f"prefix {prefix!r} is not declared in @context"
        if isinstance(sub, dict | list) and key not in _EPC_LIST_KEYS:
            yield from _prefixes(sub, prefixes, f"{path}{key}.")
