"""Build and export throughput on the embedded store, against the raw batched UNWIND.

    python experiments/bench_build.py [--users 100000] [--seed 11] [--work DIR]
    python experiments/bench_build.py --memory --users 1000000   # peak RSS of a build

In one run, on one machine: generate N users; ``ours`` = ``fraudring build`` end to end
(read + validate + map + batched MERGE) into a fresh graph; ``reference`` = the same prepared
rows and statements sent straight through the falkordb client (``graph.query`` with
``UNWIND $rows``, no validation, no mapping) into another fresh server; then export of the
whole graph. Rows go to experiments/results/perf.csv.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.perf import peak_rss_mib, perf_row, print_table, record, timed  # noqa: E402


def raw_unwind(store, plan) -> int:
    """Send prepared (statement, rows) through the client directly, 10k rows a statement."""
    graph = store._graph  # the reference path deliberately bypasses our store layer
    sent = 0
    for _what, query, rows in plan:
        for start in range(0, len(rows), 10_000):
            graph.query(query, {"rows": rows[start:start + 10_000]})
        sent += len(rows)
    return sent


def bench(users: int, seed: int, work: Path) -> list[dict]:
    from graph_build.export import export_frames
    from graph_build.generate import generate
    from graph_build.to_graph import tables_to_frames
    from graph_build.build import build, check_input
    from graph_build.write_plan import write_plan
    from graph_build.stores.falkor import FalkorStore

    data = work / f"gen_{users}_{seed}"
    if not (data / "users.csv").exists():
        print(f"generating {users:,} users …", file=sys.stderr)
        generate(data, users=users, seed=seed)
    store = FalkorStore(home=work / "store")
    try:
        # Reference first, on its own graph, with rows prepared outside the timing.
        result, _ = check_input(data)
        plan = [(what, query, make_rows(frame)) for what, query, frame, make_rows in
                write_plan(tables_to_frames(result.tables), result.tables.get("labels"))]
        # Each path gets its own fresh server, so neither pays for the other's data or
        # append-only-file rewrites.
        ref_store = FalkorStore(home=work / "reference_store")
        try:
            ref_store.clear()
            ref_store.ensure_schema()
            with timed() as t:
                ref_rows = raw_unwind(ref_store, plan)
            ref_rate = ref_rows / t()
        finally:
            ref_store.clear()
            ref_store.close()
            ref_store.server.stop()
        del plan, result

        store.clear()
        with timed() as t:
            report = build(data, store, log=lambda _m: None)
        ours_seconds = t()
        ours_rate = report.rows_written / ours_seconds
        reload_s = report.seconds.get("reload", 0.0)
        assert report.rows_written == ref_rows, (report.rows_written, ref_rows)

        with timed() as t:
            frames = export_frames(store)
        exported = sum(map(len, frames.nodes.values())) + sum(map(len, frames.rels.values()))
        export_rate = exported / t()
    finally:
        store.close()
        store.server.stop()
    label = f"{users // 1000}k users"
    print(f"build: {report.rows_written:,} rows; seconds {json.dumps(report.seconds)}",
          file=sys.stderr)
    return [
        perf_row(f"build rows/s end to end vs raw UNWIND ({label}, embedded)",
                 ours_rate, ref_rate, "rows/s"),
        perf_row(f"build rows/s end to end vs raw UNWIND, without the post-build reload "
                 f"({label}, embedded)",
                 report.rows_written / (ours_seconds - reload_s), ref_rate, "rows/s"),
        perf_row(f"export rows/s ({label}, embedded)", export_rate, None, "rows/s"),
    ]


def memory(users: int, seed: int, work: Path) -> list[dict]:
    """Peak RSS of generate + build of ``users`` in a child process (so nothing else counts)."""
    code = (
        "import sys, resource; from pathlib import Path\n"
        "from graph_build.generate import generate\n"
        "from graph_build.build import build\n"
        "from graph_build.stores.falkor import FalkorStore\n"
        "w = Path(sys.argv[1]); d = w / 'gen_mem'\n"
        f"generate(d, users={users}, seed={seed}) if not (d / 'users.csv').exists() else None\n"
        "s = FalkorStore(home=w / 'mem_store'); s.clear()\n"
        "r = build(d, s, log=lambda m: None); s.close(); s.server.stop()\n"
        "print(r.rows_written, r.seconds['total'], "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(work)], check=True,
                         capture_output=True, text=True).stdout.split()
    rows, seconds, rss = int(out[0]), float(out[1]), float(out[2])
    label = f"{users // 1000}k users"
    return [perf_row(f"build peak RSS ({label}, embedded)", rss, 8192, "MiB (reference: 8 GiB "
                     "budget)"),
            perf_row(f"build rows/s end to end ({label}, embedded)", rows / seconds, None,
                     "rows/s")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temp dir)")
    parser.add_argument("--memory", action="store_true", help="measure peak RSS of a build")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="fraudring-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FRAUDRING_HOME", str(work / "home"))
    rows = memory(args.users, args.seed, work) if args.memory else bench(
        args.users, args.seed, work)
    print_table(rows)
    record(rows)
    print(f"peak RSS of this process: {peak_rss_mib():,.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
