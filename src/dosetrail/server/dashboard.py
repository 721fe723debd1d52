"""The dashboard: server-rendered pages (Jinja2 + the analysis report's plotly figures).

No front-end build: each page is HTML from ``templates/``, charts are plotly figures whose
script is served once from ``/static/`` (no network, cached for good). Pages: the programme
overview (shipped → delivered → administered → verified, the log and its witnesses), the flow
Sankey, provinces, cold chain, findings (each linking to the events it rests on), one event with
its proof, and the certificate status with the bundles to download.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any

import jinja2
import orjson
import plotly
import plotly.offline
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dosetrail.epcis import hash_id_from_digest
from dosetrail.errors import NotFound
from dosetrail.log.storage import latest_checkpoint
from dosetrail.server.deps import Reader, ServerState, State
from dosetrail.server.overview import Snapshot, certificates, funnel
from dosetrail.server.tables import log_cosignature
from dosetrail.store.engine import read_tx
from dosetrail.store.schema import capture, event, party

__all__ = ["router"]

router = APIRouter()
PLOTLY_JS = f"/static/plotly-{plotly.__version__}.min.js"
_CERT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.zip")


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dosetrail.server", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    env.filters["thousands"] = lambda n: "—" if n is None else f"{int(n):,}"
    return env


def _page(template: str, active: str, **values: Any) -> HTMLResponse:
    html = _env().get_template(template).render(active=active, plotly_js=PLOTLY_JS, **values)
    return HTMLResponse(html)


async def snapshot(state: State) -> Snapshot:
    """The latest analysis (the first request waits for it; later ones never do)."""
    return await run_in_threadpool(state.analysis.get)


Current = Annotated[Snapshot, Depends(snapshot)]


@router.get("/static/plotly-{version}.min.js", include_in_schema=False)
async def plotly_js(version: str) -> Response:
    if version != plotly.__version__:
        raise NotFound("no such script")
    return Response(
        _plotly_source(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


@cache
def _plotly_source() -> bytes:
    source: str = plotly.offline.get_plotlyjs()
    return source.encode()


@router.get("/dashboard", include_in_schema=False)
async def dashboard_root() -> Response:
    return RedirectResponse("/dashboard/", status_code=308)


def _log_status(state: ServerState) -> dict[str, Any]:
    with read_tx(state.ledger.engine) as conn:
        latest = latest_checkpoint(conn)
        witnesses = conn.execute(
            sa.select(party.c.name, log_cosignature.c.size, log_cosignature.c.timestamp)
            .join(party, party.c.id == log_cosignature.c.witness_id)
            .order_by(log_cosignature.c.size.desc())
        ).all()
        parties = conn.execute(sa.select(sa.func.count()).select_from(party)).scalar_one()
        events = conn.execute(sa.select(sa.func.count()).select_from(event)).scalar_one()
    newest: dict[str, Any] = {}
    for w in witnesses:
        newest.setdefault(w.name, {"witness": w.name, "size": int(w.size)})
    return {
        "size": latest[0] if latest else 0,
        "root": latest[1].hex() if latest else None,
        "witnesses": list(newest.values()),
        "parties": int(parties),
        "events": int(events),
        "origin": state.ledger.origin,
        "key": state.ledger.operator.verifier_key,
    }


@router.get("/dashboard/", response_class=HTMLResponse, include_in_schema=False)
async def overview(state: State, snap: Current) -> Response:
    status = await run_in_threadpool(_log_status, state)
    certs = await run_in_threadpool(certificates, state.settings.home.root)
    verified = _verified(certs)
    counts = dict.fromkeys(("high", "medium", "low"), 0)
    for f in snap.findings.findings:
        counts[f.severity] += 1
    jobs = await run_in_threadpool(state.jobs.recent, 8)
    return _page(
        "overview.html.j2",
        "overview",
        funnel=funnel(snap.findings, verified),
        log=status,
        counts=counts,
        covered=snap.findings.covered,
        generated=snap.findings.generated_at,
        certificate=certs[0] if certs else None,
        jobs=jobs,
    )


def _verified(certs: list[Any]) -> int | None:
    """Doses the newest certificate covers, if its manifest says (certification wires this)."""
    if not certs:
        return None
    value = certs[0].summary.get("verified_doses")
    return int(value) if isinstance(value, int | float) else None


@router.get("/dashboard/flow", response_class=HTMLResponse, include_in_schema=False)
async def flow(snap: Current) -> Response:
    return _page("flow.html.j2", "flow", sankey=snap.sankey(), covered=snap.findings.covered)


@router.get("/dashboard/provinces", response_class=HTMLResponse, include_in_schema=False)
async def provinces(snap: Current) -> Response:
    table, chart = snap.provinces()
    facilities = list(snap.findings.tables.get("facilities", []))
    return _page(
        "provinces.html.j2", "provinces", provinces=table, chart=chart, facilities=facilities
    )


@router.get("/dashboard/coldchain", response_class=HTMLResponse, include_in_schema=False)
async def coldchain(snap: Current) -> Response:
    kinds = ("heat_alarm", "freeze_alarm", "logger_gap", "vvm_inconsistent", "exposed_doses")
    found = [f.as_json() for f in snap.findings.sorted() if f.kind in kinds]
    return _page(
        "coldchain.html.j2",
        "coldchain",
        timeline=snap.timeline(),
        findings=found,
        names=snap.names(),
    )


@router.get("/dashboard/findings", response_class=HTMLResponse, include_in_schema=False)
async def findings(snap: Current) -> Response:
    listed = [f.as_json() for f in snap.findings.sorted()]
    return _page(
        "findings.html.j2",
        "findings",
        findings=listed,
        names=snap.names(),
        covered=snap.findings.covered,
    )


def _event(state: ServerState, index: int) -> dict[str, Any]:
    with read_tx(state.ledger.engine) as conn:
        row = conn.execute(
            sa.select(
                event.c.log_index,
                event.c.hash,
                event.c.body,
                event.c.position,
                capture.c.id.label("capture_index"),
                capture.c.name.label("document"),
                capture.c.signature,
                party.c.name.label("party"),
                party.c.role,
            )
            .join(capture, capture.c.id == event.c.capture_id)
            .join(party, party.c.id == capture.c.party_id)
            .where(event.c.log_index == index)
        ).first()
    if row is None:
        raise NotFound(f"no event at log index {index}")
    body = orjson.loads(row.body)
    return {
        "log_index": int(row.log_index),
        "hash_id": hash_id_from_digest(bytes(row.hash)),
        "json": orjson.dumps(body, option=orjson.OPT_INDENT_2).decode(),
        "type": body.get("type"),
        "biz_step": body.get("bizStep"),
        "event_time": body.get("eventTime"),
        "position": int(row.position),
        "capture_index": int(row.capture_index),
        "document": row.document,
        "signature": row.signature,
        "party": row.party,
        "role": row.role,
    }


@router.get("/dashboard/events/{index}", response_class=HTMLResponse, include_in_schema=False)
async def event_page(state: State, _reader: Reader, index: Annotated[int, Path(ge=0)]) -> Response:
    """One event: who signed it, where it is in the log, links to its JSON-LD and its proof."""
    ev = await run_in_threadpool(_event, state, index)
    return _page("event.html.j2", "findings", ev=ev)


@router.get("/dashboard/certificate", response_class=HTMLResponse, include_in_schema=False)
async def certificate(state: State) -> Response:
    certs = await run_in_threadpool(certificates, state.settings.home.root)
    return _page("certificate.html.j2", "certificate", certificates=certs)


@router.get("/dashboard/certificates/{name}", include_in_schema=False)
async def download(state: State, name: str) -> Response:
    """Download a certificate bundle (only ``*.zip`` files directly in the folder)."""
    if not _CERT_NAME.fullmatch(name):
        raise NotFound(f"no certificate {name!r}")
    path = state.settings.home.root / "certificates" / name
    if not path.is_file():
        raise NotFound(f"no certificate {name!r}")
    return FileResponse(path, media_type="application/zip", filename=name)
