"""``fraudring serve --workers N``: N server processes on one socket (uvicorn's supervisor).

A request's fast path is Python holding the interpreter lock for ~1-2 ms, so one process uses
at most one core however many requests wait; N processes use N. Each worker is a whole
:func:`graphgnn.api.app.create_app`: it loads the model, connects to the store and builds its
own serving cache (memory grows by one cache per worker: about the batch pass's working set,
~2.4 GiB at 100k users; its build competes with requests for the CPU while it runs) and
keeps its own metrics (``/metrics`` answers for the worker that took the connection).

The settings travel to the workers (spawned, not forked: torch and the store client are not
fork-safe) as JSON in an environment variable of the supervisor, readable by the same user
only (``/proc/<pid>/environ`` is private to its owner), as the token file itself is.
"""

from __future__ import annotations

import os

from graphgnn.api.settings import ServeSettings

SETTINGS_ENV = "FRAUDRING_SERVE_SETTINGS"


def app_from_env():
    """uvicorn factory of a worker: the app of the settings in :data:`SETTINGS_ENV`."""
    import torch

    from graphgnn.api.app import create_app

    torch.set_num_threads(1)  # requests in parallel, not ops: intra-op threads only contend
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start workers with run_workers()")
    return create_app(ServeSettings.model_validate_json(raw))


def run_workers(settings: ServeSettings, workers: int, log_level: str = "info") -> None:
    """Serve ``settings`` with ``workers`` processes; returns when the supervisor stops.

    Args:
        settings: checked settings (``store``, ``store_home`` and ``ckpt`` are opened by each
            worker: pass paths, not open objects).
        workers: processes (>= 1); 1 runs the same factory in one worker process.
        log_level: uvicorn's log level.
    """
    import uvicorn

    if workers < 1:
        raise ValueError("workers must be >= 1")
    settings.check()
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    uvicorn.run("graphgnn.api.workers:app_from_env", factory=True, workers=workers,
                host=settings.host, port=settings.port, log_level=log_level,
                access_log=False, server_header=False)
