"""``fraudring serve`` under load: concurrent clients scoring orders against the embedded store.

Generates and builds a graph (``--users``), trains a quick demo-config model, runs one batch
scoring pass (the reference: its cost per scored node, and the score distribution percentiles
are ranked in), then starts the real app under uvicorn on 127.0.0.1 and sends ``--clients``
concurrent clients x ``--requests`` hypothetical orders each (HTTP/1.1 keep-alive clients on
threads of a process of their own; one client alone first: latency without queueing). Prints
latency p50/p95/p99, requests/s, errors, CPU seconds per request of the server process, the
store and the clients (with 2 cores, what bounds requests/s), the server's RSS before/after,
the serving cache's build time, and how
far the fast path's new-order answers are from an exact recompute (``--approx`` orders: the
whole cached graph plus the order through the batch scorer); writes rows to
``results/perf.csv``.

    python -m experiments.bench_serve --users 20000 --clients 8 --requests 250
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import multiprocessing
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from experiments.perf import perf_row, print_table, record

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "demo.yaml"
#: Prepared graphs + models are kept here between runs (building 100k users takes minutes).
WORK_CACHE = ROOT / ".fraudring" / "experiments"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(work: Path, users: int, seed: int):
    from graph_build.build import build
    from graph_build.generate import generate
    from graph_build.stores.falkor import FalkorStore
    from graphgnn.cli.train import run_lightning_cli
    from graphgnn.model.checkpoint import load_scorer

    ckpt = work / "runs" / "latest.ckpt"
    if ckpt.is_file():  # --work of an earlier run: reuse its graph and model
        return FalkorStore(work / "store"), load_scorer(ckpt)
    for part in ("data", "store", "cache", "runs"):  # an interrupted preparation: start over
        shutil.rmtree(work / part, ignore_errors=True)
    generate(work / "data", users=users, seed=seed)
    store = FalkorStore(work / "store")
    build(work / "data", store, log=lambda _m: None)
    run_lightning_cli(["fit", "--config", str(CONFIG), "--data.source=tables",
                       f"--data.data_dir={work / 'data'}", f"--data.cache_dir={work}/cache",
                       f"--trainer.default_root_dir={work}/runs", "--trainer.max_epochs=2",
                       "--model.hidden=16"])
    return store, load_scorer(ckpt)


def _bodies(store, n: int, seed: int) -> list[dict]:
    """Hypothetical orders of existing users on their own devices, at the graph's end."""
    rows = store.read("MATCH (u:User)-[:USED_DEVICE]->(d:Device) RETURN u.user_id AS u, "
                      "d.device_id AS d LIMIT 20000")
    products = [r["p"] for r in store.read("MATCH (p:Product) RETURN p.product_id AS p")]
    from graphgnn.scores.ingest import latest_event_time

    # The graph's latest event (what the serving cache is computed at), not the latest order:
    # an order before the cache's time goes to the exact path.
    latest = int(latest_event_time(store))
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        r = rows[int(rng.integers(len(rows)))]
        out.append({"order_id": f"bench-{i}", "user_id": r["u"], "created_at": latest,
                    "amount": float(np.round(rng.uniform(5, 500), 2)), "device_id": r["d"],
                    "ip": f"198.51.100.{int(rng.integers(1, 255))}",
                    "items": [{"product_id": products[int(rng.integers(len(products)))],
                               "quantity": 1}]})
    return out


def _client(host: str, port: int, bodies: list[bytes], lat: list[float],
            errors: list[str]) -> None:
    """One closed-loop client: HTTP/1.1 keep-alive (http.client), bodies encoded beforehand,
    so the client's own CPU per request stays small next to the server's."""
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=60)
    headers = {"Content-Type": "application/json"}
    for body in bodies:
        t = time.perf_counter()
        try:
            conn.request("POST", "/v1/score/order", body, headers)
            r = conn.getresponse()
            text = r.read()
            if r.status != 200:
                errors.append(f"{r.status}: {text[:100]!r}")
        except Exception as e:  # noqa: BLE001 - a benchmark counts every failure
            errors.append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
        lat.append(time.perf_counter() - t)
    conn.close()


def _clients(host: str, port: int, parts: list[list[bytes]]) -> tuple[list, list, float]:
    """``len(parts)`` concurrent clients (threads: they wait on sockets, not on the CPU)."""
    lat: list[float] = []
    errors: list[str] = []
    threads = [threading.Thread(target=_client, args=(host, port, part, lat, errors))
               for part in parts]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return lat, errors, time.perf_counter() - t


def _load(host: str, port: int, bodies: list[dict], clients: int, n: int) -> dict:
    """In a process of its own (clients are other machines: they must not share the server's
    interpreter lock): one client sequentially (latency without queueing), then ``clients``
    concurrent clients x ``n`` orders each; with the CPU seconds this process spent."""
    import json

    raw = [json.dumps(b).encode() for b in bodies]
    _client(host, port, raw[:5], [], [])  # warm-up
    single: list[float] = []
    _client(host, port, raw[:min(200, len(raw))], single, [])
    cpu0 = time.process_time()
    lat, errors, wall = _clients(host, port, [raw[i * n:(i + 1) * n] for i in range(clients)])
    return {"lat": lat, "errors": errors, "wall": wall, "single": single,
            "client_cpu": time.process_time() - cpu0}


def _approximation(online, scorer, bodies: list[dict]) -> np.ndarray:
    """|fast answer - exact recompute| (whole cached graph + the order, batch scorer)."""
    from graphgnn.api.fast_order import exact_recompute
    from graphgnn.api.fast_path import order_frames
    from graphgnn.api.schemas import OrderRequest

    state, out = online.cache.state, []
    for body in bodies:
        req = OrderRequest(**body)
        fast = online.score_order(req)
        exact = exact_recompute(state, scorer, order_frames(state, req), req.order_id,
                                fast.as_of)
        out.append(abs(fast.anomaly_score - exact))
    return np.array(out)


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for q in procs:
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker that exited
            total += sum(q.cpu_times()[:2])
    return total


def _rss(procs: list[psutil.Process]) -> float:
    return sum(q.memory_info().rss for q in procs if q.is_running()) / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=250, help="per client")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--approx", type=int, default=30,
                   help="orders checked against an exact recompute (approximation figures; "
                   "with --workers 1 only)")
    p.add_argument("--workers", type=int, default=1,
                   help="server processes (fraudring serve --workers); 1: the app on a thread "
                   "of this process")
    p.add_argument("--work", type=Path, default=None,
                   help="work folder; one holding runs/latest.ckpt is reused (graph + model); "
                   "default .fraudring/experiments/serve-u<users>-s<seed>")
    p.add_argument("--no-record", action="store_true",
                   help="print the table only (no rows into results/perf.csv)")
    p.add_argument("--prepare-only", action="store_true",
                   help="generate, build and train into the work folder, then stop")
    args = p.parse_args(argv)

    import torch

    from graph_build.export import export_frames
    from graphgnn.scores.scoring import run_scoring
    from experiments.serve_procs import ThreadServer, WorkerServer

    torch.set_num_threads(1)  # as `fraudring serve` runs: requests in parallel, not ops
    work = args.work or WORK_CACHE / f"serve-u{args.users}-s{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    store, scorer = _prepare(work, args.users, args.seed)
    if args.prepare_only:
        store.close()
        store.server.stop()
        print(f"prepared: {work}")
        return 0
    t = time.perf_counter()
    frames = export_frames(store)
    result = run_scoring(store, scorer, frames=frames, rings=False)
    del frames
    batch_s = time.perf_counter() - t
    per_node_ms = 1000 * batch_s / max(result.nodes_in_graph, 1)

    port = _free_port()
    bodies = _bodies(store, args.clients * args.requests, args.seed)
    if args.workers > 1:
        server = WorkerServer(work, args.workers, port)
        build_s, warm_s = server.start(bodies[-1])
        diffs = np.array([np.nan])
    else:
        server = ThreadServer(store, scorer, port)
        build_s, warm_s = server.start()
        diffs = _approximation(server.online, scorer, _bodies(store, args.approx,
                                                              args.seed + 1))
    procs = server.processes()
    rss0 = _rss(procs)
    spawn = multiprocessing.get_context("spawn")
    db = psutil.Process(store.server.status().pid)
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=spawn) as pool:
        pool.submit(time.sleep, 0).result()  # the client process started before counting
        cpu0, db0 = _cpu(procs), _cpu([db])
        load = pool.submit(_load, "127.0.0.1", port, bodies, args.clients,
                           args.requests).result()
        # Includes the warm-up and one-client passes (their requests are counted too).
        server_cpu, db_cpu = _cpu(procs) - cpu0, _cpu([db]) - db0
    lat, errors, wall = load["lat"], load["errors"], load["wall"]
    served = len(lat) + len(load["single"]) + 5
    rss1 = _rss(procs)
    paths = server.path_counts()
    server.stop()
    ms = np.array(lat) * 1000
    p50, p95, p99 = (float(np.percentile(ms, q)) for q in (50, 95, 99))
    tag = f"serve {args.users // 1000}k users {args.clients}x{args.requests}"
    if args.workers > 1:
        tag += f" {args.workers} workers"
    one = np.array(load["single"]) * 1000
    client_ms = 1000 * load["client_cpu"] / max(len(lat), 1)
    rows = [perf_row(f"{tag}: p50 latency vs batch per node", p50, per_node_ms, "ms"),
            perf_row(f"{tag}: one client (no queueing), p50 latency",
                     float(np.percentile(one, 50)), None, "ms"),
            perf_row(f"{tag}: one client (no queueing), p99 latency",
                     float(np.percentile(one, 99)), None, "ms"),
            perf_row(f"{tag}: p95 latency", p95, None, "ms"),
            perf_row(f"{tag}: p99 latency", p99, None, "ms"),
            perf_row(f"{tag}: requests/s", len(lat) / wall, None, "req/s"),
            perf_row(f"{tag}: errors", float(len(errors)), None, "count"),
            perf_row(f"{tag}: CPU per request, server process(es) vs whole machine",
                     1000 * server_cpu / served,
                     1000 * (server_cpu + db_cpu) / served + client_ms, "ms"),
            perf_row(f"{tag}: CPU per request, store (FalkorDB)", 1000 * db_cpu / served,
                     None, "ms"),
            perf_row(f"{tag}: CPU per request, clients", client_ms, None, "ms"),
            perf_row(f"{tag}: RSS after vs before (server processes)", rss1, rss0, "MiB"),
            perf_row(f"{tag}: batch pass (export+score+write)", batch_s, None, "s"),
            perf_row(f"{tag}: serving cache build (wait after start)", build_s, warm_s, "s")]
    if args.workers == 1:
        rows += [perf_row(f"{tag}: fast vs exact recompute, max |diff| ({len(diffs)} orders)",
                          float(np.max(diffs)), None, "score"),
                 perf_row(f"{tag}: fast vs exact recompute, median |diff|",
                          float(np.median(diffs)), None, "score")]
    for path, n in (paths or {}).items():
        print(f"answers by the {path} path: {n:.0f}")
    shares = {"server": 1000 * server_cpu / served, "store (FalkorDB)": 1000 * db_cpu / served,
              "clients": client_ms}
    whole = sum(shares.values())
    print("CPU per request by process: " + ", ".join(
        f"{name} {v:.3f} ms ({100 * v / whole:.0f} %)" for name, v in shares.items())
        + f"; whole machine {whole:.3f} ms ({os.cpu_count()} cores all busy: at most "
        f"{1000 * (os.cpu_count() or 1) / whole:.0f} req/s)")
    print(f"load average at the end: {os.getloadavg()}")
    if not args.no_record:
        record(rows)
    print_table(rows)
    if errors:
        print("first errors:", errors[:3])
    store.close()
    store.server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
