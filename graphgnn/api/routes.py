"""The scoring endpoints: ``/v1/score/order``, ``/v1/score/user``, health, readiness, metrics.

Scoring handlers are plain ``def``: FastAPI runs them in its thread pool, so a request that
waits on the store or the model never blocks the event loop.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from graph_build.errors import StoreError
from graphgnn.api.auth import require_token, require_writer
from graphgnn.api.errors import error_body
from graphgnn.api.schemas import OrderRequest, ScoreResponse, UserRequest
from graphgnn.api.state import ServeState

router = APIRouter()


def _state(request: Request) -> ServeState:
    return request.app.state.serve


def _count(state: ServeState, kind: str, response: ScoreResponse) -> ScoreResponse:
    state.metrics.actions.labels(kind, response.action).inc()
    if response.written:
        state.metrics.written.inc()
    return response


@router.post("/v1/score/order", response_model=ScoreResponse,
             dependencies=[Depends(require_token)], tags=["scoring"])
def score_order(body: OrderRequest, request: Request) -> ScoreResponse:
    """Score an order at checkout (a hypothetical unless ``write`` is true)."""
    if body.write:
        require_writer(request)
    state = _state(request)
    return _count(state, "order", state.online.score_order(body))


@router.post("/v1/score/user", response_model=ScoreResponse,
             dependencies=[Depends(require_token)], tags=["scoring"])
def score_user(body: UserRequest, request: Request) -> ScoreResponse:
    """Score a user as of a time (default now)."""
    if body.write:
        require_writer(request)
    state = _state(request)
    return _count(state, "user", state.online.score_user(body))


@router.get("/v1/health", tags=["operations"])
def health() -> dict:
    """Liveness: the process answers (nothing else is checked)."""
    return {"status": "ok"}


@router.get("/v1/ready", tags=["operations"])
def ready(request: Request) -> Response:
    """Readiness: the model is loaded and the store answers; 503 otherwise."""
    state = _state(request)
    t0 = time.perf_counter()
    try:
        info = state.online.refresh_distribution()
    except StoreError as e:
        state.metrics.ready.set(0)
        return JSONResponse(error_body(503, "the graph store is unavailable",
                                       reason=str(e).splitlines()[0][:200]), 503,
                            headers={"Retry-After": str(state.settings.retry_after_s)})
    state.metrics.ready.set(1)
    return JSONResponse({"status": "ready", "model_version": state.online.model_version,
                         "score_run": info.get("run_id"), "store_ms":
                         round(1000 * (time.perf_counter() - t0), 2),
                         "read_only": state.settings.read_only})


@router.get("/metrics", dependencies=[Depends(require_token)], tags=["operations"])
def metrics(request: Request) -> Response:
    """Prometheus text format: requests, latency histogram, decisions."""
    return Response(_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
