"""End-to-end training time of a shipped config: ``fraudring train fit`` on a built store.

Target (issue 10): the default config trains a 30k-user graph in <= 30 s on this 2-core CPU,
export and features included. The graph is generated and built into a fresh embedded store
first (not timed); then ``train fit`` runs in-process and is timed whole: export from the store,
the three point-in-time snapshots, training, and the CLI's re-evaluation of the best checkpoint.
The hybrid config is timed the same way. Rows go to ``results/perf.csv`` as the ratio to the
30 s budget (a benchmark, not a test: this machine is shared).

    python -m experiments.bench_fit [--users 30000] [--configs default hybrid]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 30.0


def main(argv: list[str] | None = None) -> int:
    from experiments.perf import perf_row, print_table, record
    from graph_build.build import build
    from graph_build.generate import generate
    from graph_build.stores.embedded_server import EmbeddedServer
    from graph_build.stores.falkor import FalkorStore
    from graphgnn.cli.train import run_lightning_cli

    ap = argparse.ArgumentParser(prog="python -m experiments.bench_fit")
    ap.add_argument("--users", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--configs", nargs="+", default=["default", "hybrid"])
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_fit_"))
    data, home = work / "data", work / "store"
    generate(data, users=args.users, seed=args.seed)
    store = FalkorStore(home=home)
    try:
        build(data, store, log=lambda _m: None)
    finally:
        store.close()
    rows = []
    try:
        for name in args.configs:
            t = time.perf_counter()
            run_lightning_cli(["fit", "--config", str(ROOT / "configs" / f"{name}.yaml"),
                               "--data.data_dir", str(data), "--data.store", "embedded",
                               "--data.store_home", str(home), "--data.cache_dir", "null",
                               "--trainer.default_root_dir", str(work / f"runs-{name}")])
            seconds = time.perf_counter() - t
            print(f"{name}: fit {seconds:.1f} s (budget {BUDGET_S:.0f} s)", file=sys.stderr)
            rows.append(perf_row(f"train fit end to end, configs/{name}.yaml "
                                 f"({args.users // 1000}k users, export + features + training "
                                 f"+ re-evaluation)", seconds, BUDGET_S, "s (reference: budget)"))
    finally:
        EmbeddedServer(home).stop()
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    if not args.no_record:
        record(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
