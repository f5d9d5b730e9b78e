"""The investigators' workbench: a page at ``/`` and its JSON API under ``/wb/api/``.

Included by :func:`graphgnn.api.app.create_app` when this module exists. Reads and writes go
through :mod:`graphgnn.api.workbench_data` (every one a ``.cypher`` file) on the app's store;
``get_store`` is the one seam (tests may override it with ``app.dependency_overrides``).

Authentication is the server's: every ``/wb/api`` call needs the API token when one is set
(:func:`graphgnn.api.auth.require_token`); verdicts and case status also need a writable
server (:func:`graphgnn.api.auth.require_writer`, 403 in read-only mode). The page itself holds
no data and is served without a token; its login form keeps the token in ``sessionStorage``.

The graph library (Cytoscape.js) is bundled at setup into ``static/vendor/`` (see the
Makefile); when it is missing ``/`` answers 503 with a page saying how to build it, rather than
a workbench that silently draws nothing. Nothing is loaded from a CDN.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from graph_build.stores.base import GraphStore
from graphgnn.api import workbench_data as data
from graphgnn.api.auth import require_token, require_writer

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_FILES = ("vendor/cytoscape.min.js",)
BUILD_HINT = ("npm ci --prefix graphgnn/api/web && mkdir -p graphgnn/api/static/vendor && "
              "cp graphgnn/api/web/node_modules/cytoscape/dist/cytoscape.min.js "
              "graphgnn/api/static/vendor/   (or simply: make setup)")

router = APIRouter(tags=["workbench"])


def get_store(request: Request) -> GraphStore:
    """The app's open graph store (``app.state.store``)."""
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise HTTPException(503, "the workbench has no graph store")
    return store


Store = Annotated[GraphStore, Depends(get_store)]


def _call(fn, *args: Any, **kwargs: Any) -> Any:
    """Map the data layer's errors onto HTTP answers with the reason in ``detail``."""
    try:
        return fn(*args, **kwargs)
    except data.NotFound as e:
        raise HTTPException(404, str(e)) from e
    except data.Refused as e:
        raise HTTPException(422, "; ".join(e.problems)) from e
    except ValueError as e:
        raise HTTPException(422, str(e)) from e


# -- the page -------------------------------------------------------------------------------
def missing_bundle() -> list[str]:
    """Bundled front-end files that are not built (empty when the workbench can run)."""
    return [f for f in VENDOR_FILES if not (STATIC_DIR / f).is_file()]


def _missing_page(missing: list[str]) -> str:
    files = "".join(f"<li><code>graphgnn/api/static/{f}</code></li>" for f in missing)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>fraudring workbench: not "
            "built</title></head><body style='font-family:sans-serif;max-width:50em;margin:3em'>"
            "<h1>The workbench is not built</h1><p>Its graph library is bundled from npm at "
            f"setup time and these files are missing:</p><ul>{files}</ul><p>Build them (needs "
            f"node and npm once; nothing is fetched at run time):</p><pre>{BUILD_HINT}</pre>"
            "<p>The scoring API (<code>/v1/...</code>) works without it.</p></body></html>")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index() -> Any:
    """The workbench page (503 with build instructions when the JS bundle is missing)."""
    missing = missing_bundle()
    if missing:
        return HTMLResponse(_missing_page(missing), status_code=503)
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")


@router.get("/wb/static/{name:path}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    """A file of ``static/`` (never outside it)."""
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR not in path.parents or not path.is_file():
        raise HTTPException(404, f"no workbench file {name!r}")
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media)


@router.get("/guide", response_class=HTMLResponse, include_in_schema=False)
def guide(request: Request) -> HTMLResponse:
    """A Neo4j Browser guide (``:play http://HOST:PORT/guide``) through the saved queries."""
    from graphgnn.api.workbench_guide import guide_html

    # Browser fetches guides from its own page's origin: it needs CORS to read this one.
    return HTMLResponse(guide_html(str(request.base_url)),
                        headers={"Access-Control-Allow-Origin": "*"})


# -- reading ------------------------------------------------------------------------------------
@router.get("/wb/api/config", dependencies=[Depends(require_token)])
def config(request: Request) -> dict[str, Any]:
    """What the page needs to know: read-only mode, and that the token (if any) is right."""
    settings = request.app.state.settings
    return {"read_only": bool(settings.read_only), "verdicts": list(data.VERDICTS),
            "case_statuses": list(data.CASE_STATUSES), "kinds": list(data.KINDS)}


@router.get("/wb/api/rings", dependencies=[Depends(require_token)])
def rings(store: Store, sort: Literal["score", "size", "growth", "detected"] = "score",
          status: Literal["open", "investigating", "closed"] | None = None,
          change: Literal["new", "grown", "changed"] | None = None,
          min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
          min_size: Annotated[int, Query(ge=0)] = 0,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The ring queue."""
    return _call(data.ring_queue, store, sort=sort, status=status, change=change,
                 min_score=min_score, min_size=min_size, limit=limit)


@router.get("/wb/api/rings/{ring_id}", dependencies=[Depends(require_token)])
def ring(store: Store, ring_id: str) -> dict[str, Any]:
    """One ring: members, shared entities of every kind, member-entity edges."""
    return _call(data.ring_detail, store, ring_id)


@router.get("/wb/api/users/{user_id}", dependencies=[Depends(require_token)])
def user(store: Store, user_id: str) -> dict[str, Any]:
    """One user: score, percentile, reasons, verdict, timeline."""
    return _call(data.member_detail, store, user_id)


@router.get("/wb/api/entities/{entity_id:path}", dependencies=[Depends(require_token)])
def entity(store: Store, entity_id: str) -> dict[str, Any]:
    """A device, IP, card or address and its users."""
    return _call(data.entity_detail, store, entity_id)


@router.get("/wb/api/search", dependencies=[Depends(require_token)])
def search(store: Store, q: Annotated[str, Query(max_length=200)] = "") -> dict[str, Any]:
    """Users, orders, devices, IPs, cards, addresses by key prefix."""
    return _call(data.search, store, q)


@router.get("/wb/api/audit", dependencies=[Depends(require_token)])
def audit(store: Store, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """The audit trail of verdicts and case decisions."""
    return {"entries": _call(data.audit_trail, store, limit)}


# -- writing ------------------------------------------------------------------------------------
class VerdictIn(BaseModel):
    """A verdict the investigator confirmed in the page."""

    model_config = ConfigDict(extra="forbid")
    entity: Literal["user", "order"] = "user"
    id: str = Field(min_length=1, max_length=200)
    verdict: Literal["fraud", "legit", "unsure"]
    by: str = Field(min_length=1, max_length=100)
    note: str = Field("", max_length=2000)


class StatusIn(BaseModel):
    """A ring case status change."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "investigating", "closed"]
    by: str = Field(min_length=1, max_length=100)
    note: str = Field("", max_length=2000)


@router.post("/wb/api/verdicts", dependencies=[Depends(require_writer)])
def post_verdict(store: Store, body: VerdictIn) -> dict[str, Any]:
    """Write ``verdict``, ``verdict_at``, ``verdict_by``, ``verdict_note`` and an audit record."""
    _call(data.set_verdict, store, body.entity, body.id, body.verdict, body.by.strip(),
          body.note)
    return {"ok": True, "entity": body.entity, "id": body.id, "verdict": body.verdict}


@router.post("/wb/api/rings/{ring_id}/status", dependencies=[Depends(require_writer)])
def post_status(store: Store, ring_id: str, body: StatusIn) -> dict[str, Any]:
    """Set a ring's case status (open / investigating / closed), audited."""
    _call(data.set_case_status, store, ring_id, body.status, body.by.strip(), body.note)
    return {"ok": True, "ring_id": ring_id, "status": body.status}
