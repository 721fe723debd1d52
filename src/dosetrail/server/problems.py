"""RFC 7807 problem documents: the one place errors become HTTP responses.

Every error the server raises on purpose is a :class:`~dosetrail.errors.DosetrailError`; its
``http_status`` and ``title`` (see :mod:`dosetrail.errors`) become the problem's ``status`` and
``title``, its message the ``detail``. ``type`` is the GS1 exception name of the EPCIS 2.0
OpenAPI (``epcisException:…``, EPCIS 2.0 §12.6) for that status. Framework errors (unknown
route, wrong method, unparsable parameters) are first turned into the same tree, so clients see
one format. Invalid documents also list every problem with its event index and field.

The errors only the HTTP binding has (401, 406, 408, 413, 415, 501) are defined here, under the
same tree.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from dosetrail.errors import (
    AuthError,
    DosetrailError,
    InvalidDocument,
    MalformedInput,
    NotFound,
    Problem,
)

__all__ = [
    "NotAcceptable",
    "NotImplementedHere",
    "PayloadTooLarge",
    "RequestTimeout",
    "Unauthenticated",
    "UnsupportedMediaType",
    "install",
    "problem_body",
    "problem_list",
]

PROBLEM_JSON = "application/problem+json"


class Unauthenticated(AuthError):
    """No valid RFC 9421 signature from a registered party (or a replayed one)."""

    http_status = 401
    title = "Unauthorised request"


class NotAcceptable(DosetrailError):
    """The client asked for a media type or EPCIS/CBV version this server does not produce."""

    http_status = 406
    title = "Not acceptable"


class RequestTimeout(MalformedInput):
    """The client did not send its body in time (slow client)."""

    http_status = 408
    title = "Request timeout"


class PayloadTooLarge(MalformedInput):
    """The body or the number of events is over ``GS1-EPCIS-Capture-*-Limit``."""

    http_status = 413
    title = "Capture payload too large"


class UnsupportedMediaType(MalformedInput):
    http_status = 415
    title = "Unsupported media type"


class NotImplementedHere(DosetrailError):
    """An EPCIS 2.0 REST feature this repository does not offer (e.g. subscriptions)."""

    http_status = 501
    title = "Not implemented"


_GS1_TYPES = {
    400: "epcisException:ValidationException",
    401: "epcisException:SecurityException",
    403: "epcisException:SecurityException",
    404: "epcisException:NoSuchNameException",
    406: "epcisException:NotAcceptableException",
    408: "epcisException:ValidationException",
    409: "epcisException:ResourceAlreadyExistsException",
    413: "epcisException:CaptureLimitExceededException",
    414: "epcisException:URITooLongException",
    415: "epcisException:UnsupportedMediaTypeException",
    422: "epcisException:ValidationException",
    501: "epcisException:ImplementationException",
    503: "epcisException:ImplementationException",
}


def problem_body(error: DosetrailError) -> dict[str, Any]:
    """The RFC 7807 object for ``error`` (also used per event in capture jobs)."""
    status = error.http_status
    body: dict[str, Any] = {
        "type": _GS1_TYPES.get(status, "epcisException:ImplementationException"),
        "title": error.title,
        "status": status,
        "detail": str(error),
    }
    if isinstance(error, InvalidDocument):
        body["problems"] = [_problem(p) for p in error.problems]
    return body


def problem_list(error: DosetrailError, title: str | None = None) -> list[dict[str, Any]]:
    """Capture-job ``errors``: one RFC 7807 object per problem, each naming its event."""
    if not isinstance(error, InvalidDocument):
        return [problem_body(error)]
    base = {
        "type": _GS1_TYPES[422],
        "title": title or error.title,
        "status": error.http_status,
    }
    return [{**base, **_problem(p)} for p in error.problems]


def _problem(p: Problem) -> dict[str, Any]:
    out: dict[str, Any] = {"detail": p.message}
    if p.location.event is not None:
        out["eventIndex"] = p.location.event
    if p.location.field:
        out["field"] = p.location.field
    return out


def problem_response(error: DosetrailError, request: Request) -> Response:
    headers = {}
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Signature realm="dosetrail", alg="ed25519"'
    body = problem_body(error)
    return Response(
        orjson.dumps(body), status_code=error.http_status, media_type=PROBLEM_JSON, headers=headers
    )


def _from_http(exc: HTTPException) -> DosetrailError:
    detail = str(exc.detail)
    if exc.status_code == 404:
        return NotFound(detail if detail != "Not Found" else "no such resource")
    error = DosetrailError(detail)
    error.http_status = exc.status_code
    error.title = detail
    return error


def install(app: FastAPI) -> None:
    """Register the handler: DosetrailError (and framework errors mapped into it) → RFC 7807."""

    async def handle(request: Request, exc: Exception) -> Response:
        if isinstance(exc, RequestValidationError):
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ()))
            exc = MalformedInput(f"{where}: {first.get('msg', 'invalid request')}")
        elif isinstance(exc, HTTPException):
            exc = _from_http(exc)
        assert isinstance(exc, DosetrailError)
        return problem_response(exc, request)

    app.add_exception_handler(DosetrailError, handle)
    app.add_exception_handler(HTTPException, handle)
    app.add_exception_handler(RequestValidationError, handle)
