"""The server against the GS1 EPCIS 2.0 OpenAPI document, with schemathesis.

The document is read from ``../shared/conformance/epcis/gs1/rest/openapi.json`` at test time,
never copied. It is adapted in three documented ways (docs/server.md, "Deviations"):

* only the operations dosetrail implements are tested (subscriptions and WebSockets are not);
* query parameters the repository does not support (quantity, sensor, persistent disposition,
  error-declaration detail and transformation filters) are removed — the server refuses them
  with 400 naming the parameter, which ``test_queries`` checks;
* 400 (EPCIS ``QueryParameterException`` / ``ValidationException``) is added to the responses
  of operations whose parameters or bodies the server can refuse but for which the document
  lists no 400;
* ``CaptureJob``'s ``oneOf`` of ``errors`` / ``errorFile`` names no required member, so every
  object matches both branches and none can validate: each branch is made to require its member.

Every generated request then has to get a documented status, content type, headers and body
schema, and never a server error. The parties' signatures are not generated, so writes are
answered 401 — also documented, and checked for its problem document.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from dosetrail.home import Home
from dosetrail.store.engine import sqlite_url
from tests.conftest import GS1
from tests.server.conftest import Live, serve
from tests.store import docs

OPENAPI = GS1 / "rest" / "openapi.json"
UNSUPPORTED = re.compile(
    r"(EQ|GT|GE|LT|LE)_quantity|EQ_persistentDisposition_(set|unset)|EQ_transformationID"
    r"|(GE|LT)_errorDeclarationTime|EQ_errorReason|EQ_correctiveEventID"
    r"|(GE|LT)_(start|end)Time|EQ_(type|deviceID|dataProcessingMethod|microorganism"
    r"|chemicalSubstance|bizRules|stringValue|hexBinaryValue|uriValue|booleanValue)"
)
NOT_OFFERED = re.compile(r"subscriptions|/nextPageToken")


def _adapted() -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(OPENAPI.read_bytes())
    parameters = doc["components"]["parameters"]
    unsupported = {
        f"#/components/parameters/{name}"
        for name, p in parameters.items()
        if p.get("in") == "query" and UNSUPPORTED.fullmatch(p["name"])
    }
    paths = {}
    for path, item in doc["paths"].items():
        if NOT_OFFERED.search(path):
            continue
        item = copy.deepcopy(item)
        for method, op in item.items():
            if method == "parameters":
                continue
            op["parameters"] = [
                p for p in op.get("parameters", []) if p.get("$ref") not in unsupported
            ]
            responses = op.setdefault("responses", {})
            if method in ("get", "post") and "400" not in responses:
                responses["400"] = {"$ref": "#/components/responses/400QueryIssues"}
            responses.pop("101", None)
        paths[path] = item
    doc["paths"] = paths
    # CaptureJob's oneOf (errors | errorFile) has no required member, so every object matches
    # both branches and no job document could ever be valid: require the member of each.
    branches = doc["components"]["schemas"]["CaptureJob"]["allOf"][1]["oneOf"]
    branches[0]["required"], branches[1]["required"] = ["errors"], ["errorFile"]
    return doc


def _schema() -> Any:
    if not OPENAPI.is_file():
        pytest.skip(f"the GS1 OpenAPI document is not at {OPENAPI}", allow_module_level=True)
    # The coverage phase enumerates every variant of the EPCIS event schemas: minutes, not seconds.
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    return schemathesis.openapi.from_dict(_adapted(), config=config)


schema = _schema()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for the whole module, holding a few events to query."""
    root: Path = tmp_path_factory.mktemp("openapi") / "home"
    gen = serve(Home(root, sqlite_url(root / "ledger.db")), root)
    live = next(gen)
    body = docs.document(
        docs.commission(1, [docs.vial(1), docs.vial(2)]),
        docs.pack(1, docs.case(1), [docs.vial(1), docs.vial(2)]),
    )
    assert live.wait_job(live.capture(body, "donor").headers["location"])["success"]
    yield live
    gen.close()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _check(case: Any, served: Live) -> None:
    response = case.call(base_url=served.url)
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400:
        ctype = response.headers.get("content-type")
        assert ctype in (["application/problem+json"], "application/problem+json"), ctype
        problem = response.json()
        assert problem["status"] == response.status_code
        assert problem["type"].startswith("epcisException:")


@schema.exclude(method="POST").parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_reads_conform_to_the_gs1_openapi(case: Any, served: Live) -> None:
    _check(case, served)


@schema.include(method="POST").parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_writes_conform_to_the_gs1_openapi(case: Any, served: Live) -> None:
    """The document's examples and a few generated bodies (EPCIS event schemas are slow)."""
    _check(case, served)
