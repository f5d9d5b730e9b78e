"""The ASGI app of ``fraudring serve``: scoring endpoints plus the investigators' workbench.

``create_app(settings)`` opens the store and loads the model once, then mounts the scoring
router (:mod:`graphgnn.api.routes`) and, when it is installed, the workbench router
(:mod:`graphgnn.api.workbench`). Middleware order (outermost first): metrics, body size limit.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from graphgnn.api import errors, routes
from graphgnn.api.limits import BodyLimitMiddleware
from graphgnn.api.metrics import MetricsMiddleware
from graphgnn.api.settings import ServeSettings
from graphgnn.api.state import ServeState

WORKBENCH_MODULE = "graphgnn.api.workbench"


def _workbench_router():
    """The workbench's ``APIRouter``, or None when that module is not part of this install."""
    try:
        workbench = importlib.import_module(WORKBENCH_MODULE)
    except ModuleNotFoundError as e:
        # Only the workbench module itself may be absent; a missing dependency of it is a bug.
        if e.name != WORKBENCH_MODULE:
            raise
        return None
    return workbench.router


def create_app(settings: ServeSettings, *, store: Any = None, scorer: Any = None) -> FastAPI:
    """Build the app.

    Args:
        settings: the configuration (checked: an exposed host needs a token).
        store: an already open graph store to use (tests, embedding); default: open
            ``settings.store``. A store passed in is not closed at shutdown.
        scorer: an already loaded scorer; default: load ``settings.ckpt``.

    Returns:
        The FastAPI app; ``app.state.serve`` is its :class:`ServeState`, ``app.state.store``
        and ``app.state.scorer`` the open store and the loaded model.

    Raises:
        FraudringError: a bad setting, no checkpoint, or a store that cannot be reached.
    """
    settings.check()
    state = ServeState(settings, store=store, scorer=scorer, owns_store=store is None)
    state.open()
    state.started_at = time.time()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="fraudring serve", version="1", lifespan=lifespan,
                  summary="Real-time fraud decisions from the graph, and the workbench")
    app.state.settings = settings
    app.state.serve = state
    app.state.store = state.store
    app.state.scorer = state.scorer
    errors.install(app)
    app.include_router(routes.router)
    bench = _workbench_router()
    if bench is not None:
        app.include_router(bench)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    return app
