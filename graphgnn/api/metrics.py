"""Prometheus metrics of one app: requests, latency and decisions (a registry per app)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Milliseconds matter at checkout: fine buckets below 100 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
                   0.25, 0.5, 1.0, 2.5, 5.0)


class ServeMetrics:
    """The collectors of one app, in their own :class:`CollectorRegistry`.

    A registry per app (not the process-global one) so that several apps in one process (tests)
    never clash over metric names.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("fraudring_serve_requests_total", "HTTP requests answered",
                                ("route", "method", "status"), registry=self.registry)
        self.latency = Histogram("fraudring_serve_request_seconds",
                                 "Time to answer a request", ("route",),
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.actions = Counter("fraudring_serve_actions_total", "Decisions returned",
                               ("kind", "action"), registry=self.registry)
        self.written = Counter("fraudring_serve_orders_written_total",
                               "Orders merged into the graph by requests", registry=self.registry)
        self.store_errors = Counter("fraudring_serve_store_errors_total",
                                    "Requests answered 503 because the store failed",
                                    registry=self.registry)
        self.subgraph_nodes = Histogram("fraudring_serve_subgraph_nodes",
                                        "Nodes in the fetched neighbourhood of a request",
                                        buckets=(10, 30, 100, 300, 1000, 3000, 10000, 30000),
                                        registry=self.registry)
        self.paths = Counter("fraudring_serve_path_total",
                             "Scoring answers by path (cache, fast, exact)", ("path",),
                             registry=self.registry)
        self.ready = Gauge("fraudring_serve_ready", "1 when the model and store are usable",
                           registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request by route template (bounded label values)."""

    def __init__(self, app: ASGIApp, metrics: ServeMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        code = {"status": 500}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                code["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # The matched route's template (``/v1/rings/{ring_id}``), never the raw path: a
            # scanner trying random paths must not grow the metric set (they share "other").
            route = getattr(scope.get("route"), "path", None) or "other"
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)
            self.metrics.requests.labels(route, scope.get("method", ""),
                                         str(code["status"])).inc()
