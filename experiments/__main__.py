"""``python -m experiments {quality,perf,report,all} [--quick]``: regenerate the evidence.

- ``quality``: every method on the generated graphs (and the IEEE-CIS subset) ->
  ``results/quality.csv`` and ``results/pr_*.png``;
- ``perf``: the benchmark scripts ``bench_build.py``, ``bench_train.py``, ``bench_score.py``
  (each run as a subprocess when present) and the scale curve -> ``results/perf.csv``,
  ``results/scale.csv``, ``results/scale.png``;
- ``report``: ``experiments/README.md`` from the CSVs (no number typed by hand);
- ``all``: the three in order.

``--quick`` finishes in minutes (5k users, one generator and one training seed; scale 10k/30k).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_SCRIPTS = ("bench_build.py", "bench_train.py", "bench_score.py")


def run_benches(quick: bool) -> None:
    """Run the other benchmark scripts as subprocesses (they record their own perf rows)."""
    for name in BENCH_SCRIPTS:
        script = HERE / name
        if not script.is_file():
            print(f"perf: {name} not present, skipped", file=sys.stderr)
            continue
        cmd = [sys.executable, str(script)]
        source = script.read_text()
        if quick and '"--quick"' in source:
            cmd += ["--quick"]
        elif quick and '"--users"' in source:
            cmd += ["--users", "10000"]
        print(f"perf: {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, cwd=HERE.parent).returncode
        status = "ok" if rc == 0 else f"FAILED (exit {rc})"
        print(f"perf: {name} {status} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("quality", "perf", "report", "all"))
    ap.add_argument("--quick", action="store_true", help="small sizes, one seed: minutes")
    ap.add_argument("--sizes", type=int, nargs="+", help="users per generated graph")
    ap.add_argument("--gen-seeds", type=int, nargs="+", help="generator seeds (default 101-106)")
    ap.add_argument("--train-seeds", type=int, nargs="+", help="training seeds (0, 1, 2)")
    ap.add_argument("--methods", nargs="+", help="only these methods (names in quality.csv)")
    ap.add_argument("--no-ieee", action="store_true", help="skip the IEEE-CIS subset")
    ap.add_argument("--jobs", type=int, default=1,
                    help="quality: graphs evaluated at once, one process each (default 1)")
    ap.add_argument("--scale-sizes", type=int, nargs="+",
                    help="users of the scale curve (default 10k 100k 1M; quick 10k 30k)")
    ap.add_argument("--no-benches", action="store_true", help="perf: only the scale curve")
    args = ap.parse_args(argv)
    if args.command in ("quality", "all"):
        from experiments.quality import run_quality

        run_quality(args.quick, args.sizes, args.gen_seeds, args.train_seeds, args.methods,
                    ieee=not args.no_ieee, jobs=args.jobs)
    if args.command in ("perf", "all"):
        from experiments.perf_scale import run_scale

        if not args.no_benches:
            run_benches(args.quick)
        sizes = args.scale_sizes or ([10_000, 30_000] if args.quick
                                     else [10_000, 100_000, 1_000_000])
        run_scale(sizes)
    if args.command in ("report", "all"):
        from experiments.report import write_report

        path = write_report()
        print(f"report: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
