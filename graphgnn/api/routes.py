"""The scoring endpoints: ``/v1/score/order``, ``/v1/score/user``, health, readiness, metrics.

The scoring handlers are ``async``: an answer from the serving cache (the fast path: ~1 ms of
numpy; a store statement only as the liveness check, at most every ``liveness_s``) runs on the
event loop itself, with no hand-off to a thread (the hand-off cost CPU on every request and
bought nothing: a worker process is one core, its requests take turns on the interpreter
lock anyway).
Whatever may wait long on the store goes to FastAPI's thread pool, so the event loop keeps
serving: the exact path (writes, what-ifs in the past, a model the tree does not reproduce)
and the periodic check for a newer scoring run (which may reload every batch score).

The answer is serialised once, by pydantic's own serializer, into the response bytes:
``response_model`` is kept for the OpenAPI schema only (FastAPI skips its re-validation and
``jsonable_encoder`` pass for a :class:`Response` returned as such).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from graph_build.errors import StoreError
from graphgnn.api.auth import require_token, require_writer
from graphgnn.api.errors import error_body
from graphgnn.api.schemas import OrderRequest, ScoreResponse, UserRequest
from graphgnn.api.state import ServeState

router = APIRouter()


def _state(request: Request) -> ServeState:
    return request.app.state.serve


def _answer(state: ServeState, kind: str, response: ScoreResponse) -> Response:
    """Count the decision and serialise it (once: pydantic's serializer, straight to bytes)."""
    state.metrics.actions.labels(kind, response.action).inc()
    if response.written:
        state.metrics.written.inc()
    return Response(response.__pydantic_serializer__.to_json(response),
                    media_type="application/json")


@router.post("/v1/score/order", response_model=ScoreResponse,
             dependencies=[Depends(require_token)], tags=["scoring"])
async def score_order(body: OrderRequest, request: Request) -> Response:
    """Score an order at checkout (a hypothetical unless ``write`` is true)."""
    if body.write:
        require_writer(request)
    state = _state(request)
    answer = state.online.quick_order(body)  # the fast path, when it can answer at once
    if answer is None:
        answer = await run_in_threadpool(state.online.score_order, body)
    return _answer(state, "order", answer)


@router.post("/v1/score/user", response_model=ScoreResponse,
             dependencies=[Depends(require_token)], tags=["scoring"])
async def score_user(body: UserRequest, request: Request) -> Response:
    """Score a user as of a time (default now)."""
    if body.write:
        require_writer(request)
    state = _state(request)
    answer = state.online.quick_user(body)
    if answer is None:
        answer = await run_in_threadpool(state.online.score_user, body)
    return _answer(state, "user", answer)


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
