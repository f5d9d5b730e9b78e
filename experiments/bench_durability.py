"""What durability costs: ``appendfsync always`` (the default) against ``everysec``, in one run.

    python experiments/bench_durability.py [--users 20000] [--seed 11] [--verdicts 200]

For each setting, on a fresh embedded store: the build of N generated users (end to end, as
``fraudring build`` does it), one verdict write (``investigate/set_verdict``, the median of
``--verdicts`` single statements, each acknowledged on its own) and a restart (stop, start,
first answer) of the built graph. The two settings are measured alternately (always,
everysec, always, everysec …, ``--repeats`` rounds; medians), so a change in the machine's
load hits both. Ratios are always / everysec; rows go to experiments/results/perf.csv.
These are the figures quoted in ``graph_build/stores/server_config.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.perf import perf_row, print_table, record  # noqa: E402

SETTINGS = ("always", "everysec")


def _open(home: Path):
    from graph_build.stores.falkor import FalkorStore

    return FalkorStore(home=home)


def measure(data: Path, home: Path, setting: str, verdicts: int) -> dict[str, float]:
    """Build, verdict and restart figures of one setting on a fresh store (seconds)."""
    from graph_build import cypher
    from graph_build.build import build
    from graph_build.stores import server_config

    os.environ["FRAUDRING_APPENDFSYNC"] = setting  # read when the server starts
    store = _open(home)
    t0 = time.perf_counter()
    build(data, store, log=lambda _m: None)
    build_s = time.perf_counter() - t0
    users = [r["k"] for r in store.read("MATCH (u:User) RETURN u.user_id AS k LIMIT $n",
                                        {"n": verdicts})]
    statement = cypher.render("investigate/set_verdict")
    times = []
    for i, user in enumerate(users):
        params = {"user_id": user, "verdict": ("fraud", "legit")[i % 2], "by": "bench",
                  "note": "durability"}
        t = time.perf_counter()
        store.write(statement, params)
        times.append(time.perf_counter() - t)
    # The restart loads what a build leaves on disk: its rewrite (snapshot base) finished.
    server_config.wait_for_rewrite(store._db.connection)
    store.close()
    store.server.stop()
    t = time.perf_counter()
    again = _open(home)
    again.read("MATCH (u:User) RETURN count(u) AS n")
    restart_s = time.perf_counter() - t
    again.close()
    again.server.stop()
    return {"build": build_s, "verdict": statistics.median(times), "restart": restart_s}


def bench(users: int, seed: int, verdicts: int, repeats: int, work: Path) -> list[dict]:
    from graph_build.generate import generate

    data = work / "data"
    generate(data, users=users, seed=seed)
    runs: dict[str, list[dict]] = {s: [] for s in SETTINGS}
    for round_ in range(repeats):
        for setting in SETTINGS:
            home = work / f"{setting}-{round_}"
            runs[setting].append(measure(data, home, setting, verdicts))
            print(f"  round {round_ + 1} {setting:<8} " + "  ".join(
                f"{k} {v:.4f} s" for k, v in runs[setting][-1].items()), file=sys.stderr)
    med = {s: {k: statistics.median(r[k] for r in runs[s]) for k in runs[s][0]}
           for s in SETTINGS}
    tag = f"{users // 1000}k"
    return [
        perf_row(f"durability_build_{tag}_always_vs_everysec", med["always"]["build"],
                 med["everysec"]["build"], "s"),
        perf_row(f"durability_verdict_{tag}_always_vs_everysec", med["always"]["verdict"] * 1e3,
                 med["everysec"]["verdict"] * 1e3, "ms"),
        perf_row(f"durability_restart_{tag}_always_vs_everysec", med["always"]["restart"],
                 med["everysec"]["restart"], "s"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--verdicts", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args(argv)
    previous = os.environ.get("FRAUDRING_APPENDFSYNC")
    try:
        with tempfile.TemporaryDirectory(prefix="bench_durability_", dir=args.work) as tmp:
            rows = bench(args.users, args.seed, args.verdicts, args.repeats, Path(tmp))
    finally:
        if previous is None:
            os.environ.pop("FRAUDRING_APPENDFSYNC", None)
        else:
            os.environ["FRAUDRING_APPENDFSYNC"] = previous
    print_table(rows)
    record(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
