"""Error answers: a JSON body naming what was wrong, never a traceback.

- request validation -> 422 with one entry per bad field (``field`` is its dotted path);
- input the build path rejects -> 422 with the build's located problems;
- the store is unreachable -> 503 with ``Retry-After``;
- anything unexpected -> 500 with a fixed message (the traceback goes to the server log only).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph_build.errors import FraudringError, StoreError, ValidationError

log = logging.getLogger("fraudring.serve")


class WarmingUp(StoreError):
    """The serving cache is not built yet and the settings say to answer 503 meanwhile."""


_NAMES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "request_too_large",
          422: "validation", 500: "internal", 503: "unavailable"}


def error_body(status: int, detail: Any, **extra: Any) -> dict[str, Any]:
    """The JSON of every error answer: ``{"error": kind, "detail": ...}``."""
    return {"error": _NAMES.get(status, "error"), "detail": detail, **extra}


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """One ``{field, message, type}`` per problem; ``field`` like ``items.0.quantity``."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        out.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid"),
                    "type": err.get("type", "value_error")})
    return out


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = field_errors(exc)
        names = ", ".join(f["field"] for f in fields)
        return JSONResponse(error_body(422, f"invalid request: {names}", fields=fields), 422)

    @app.exception_handler(ValidationError)
    async def _rejected(_: Request, exc: ValidationError) -> JSONResponse:
        fields = [{"field": p.column or p.table or "body", "message": p.why,
                   "table": p.table, "value": p.value} for p in exc.problems]
        return JSONResponse(error_body(422, str(exc).splitlines()[0], fields=fields), 422)

    @app.exception_handler(StoreError)
    async def _store_down(request: Request, exc: StoreError) -> JSONResponse:
        state = getattr(request.app.state, "serve", None)
        if state is not None:
            state.metrics.store_errors.inc()
        retry = request.app.state.settings.retry_after_s
        # Warming up is expected right after start (clients poll /v1/ready or retry): one
        # warning per polled request would bury real outages in the log.
        (log.info if isinstance(exc, WarmingUp) else log.warning)("store unavailable: %s", exc)
        return JSONResponse(error_body(503, "the graph store is unavailable; retry later",
                                       reason=str(exc).splitlines()[0][:200]), 503,
                            headers={"Retry-After": str(retry)})

    @app.exception_handler(FraudringError)
    async def _fraudring(_: Request, exc: FraudringError) -> JSONResponse:
        log.error("request failed: %s", exc)
        return JSONResponse(error_body(500, str(exc).splitlines()[0][:300], hint=exc.hint), 500)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, exc.detail), exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error answering a request", exc_info=exc)
        return JSONResponse(error_body(500, "internal error; see the server log"), 500)
