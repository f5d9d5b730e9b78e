"""The server under test of :mod:`experiments.bench_serve`: in this process, or N workers.

- :class:`ThreadServer`: the app under uvicorn on a thread of the benchmark's process (one
  process, the store and model objects shared with the benchmark: the approximation check and
  the path counters read its serving cache);
- :class:`WorkerServer`: ``fraudring serve --workers N``'s code path
  (:func:`graphgnn.api.workers.run_workers`) in a process of its own, each worker loading
  the checkpoint and building its own serving cache.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


class ThreadServer:
    """The app on a uvicorn thread of this process."""

    def __init__(self, store, scorer, port: int) -> None:
        import uvicorn

        from graphgnn.api.app import create_app
        from graphgnn.api.settings import ServeSettings

        self.port = port
        self.app = create_app(ServeSettings(port=port), store=store, scorer=scorer)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def online(self):
        return self.app.state.serve.online

    def start(self) -> tuple[float, float]:
        """Start and wait for the serving cache: (its build seconds, seconds waited)."""
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        t = time.perf_counter()
        self.online.cache.wait(3600)  # the serving cache: one batch pass in the background
        return self.online.cache.state.build_s, time.perf_counter() - t

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process(os.getpid())]

    def path_counts(self) -> dict[str, float] | None:
        reg = self.online.metrics.paths
        return {p: reg.labels(p)._value.get()  # noqa: SLF001 - the app's own registry
                for p in ("cache", "fast", "exact")}

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class WorkerServer:
    """``workers`` server processes (uvicorn's supervisor) on ``port``."""

    def __init__(self, work: Path, workers: int, port: int) -> None:
        from graphgnn.api.settings import ServeSettings

        self.port, self.workers = port, workers
        self.settings = ServeSettings(store="embedded", store_home=work / "store",
                                      ckpt=work / "runs" / "latest.ckpt", port=port,
                                      while_warming="unavailable")
        self.proc: subprocess.Popen | None = None

    def start(self, probe: dict, timeout: float = 3600) -> tuple[float, float]:
        """Start and wait until every worker answers from its cache: (seconds, seconds)."""
        code = ("import sys; from graphgnn.api.settings import ServeSettings; "
                "from graphgnn.api.workers import run_workers; "
                "run_workers(ServeSettings.model_validate_json(sys.argv[1]), "
                f"{self.workers}, 'warning')")
        t = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-c", code,
                                      self.settings.model_dump_json()])
        body, fast = json.dumps(probe).encode(), 0
        # New connections land on any worker: many fast answers in a row = all warm.
        while fast < 20 * self.workers:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the workers exited ({self.proc.returncode})")
            if time.perf_counter() - t > timeout:
                raise TimeoutError("the workers did not warm up")
            fast = fast + 1 if self._fast(body) else 0
            if not fast:
                time.sleep(0.5)
        waited = time.perf_counter() - t
        return waited, waited

    def _fast(self, body: bytes) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request("POST", "/v1/score/order", body,
                         {"Content-Type": "application/json", "Connection": "close"})
            r = conn.getresponse()
            return r.status == 200 and json.loads(r.read()).get("path") == "fast"
        except OSError:
            return False
        finally:
            conn.close()

    def processes(self) -> list[psutil.Process]:
        sup = psutil.Process(self.proc.pid)
        return [sup, *sup.children(recursive=True)]

    def path_counts(self) -> dict[str, float] | None:
        return None  # per worker registries: /metrics answers for one of them

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
