"""Run the whole product on generated data: generate, build, train, score, rings, report.

``fraudring demo [--users N] [--out DIR] [--seed S] [--keep-server]`` works in a fresh folder
(default ``./fraudring-demo``; a previous demo folder — recognised by its marker file — is wiped,
anything else is refused) with its own embedded store inside it, prints the top rings and where
the report is, and stops the store's server at the end unless ``--keep-server``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

MARKER = ".fraudring-demo"
DEFAULT_OUT = "fraudring-demo"
DEFAULT_USERS = 3000
CONFIG = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"


def _fresh(out: Path) -> None:
    from graph_build.errors import ConfigError

    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ConfigError(f"{out} exists and is not a previous demo folder",
                              hint="pass --out with a new or empty folder")
        from graph_build.stores.embedded_server import EmbeddedServer

        EmbeddedServer(out / "store").stop()
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("fraudring demo folder: `fraudring demo` may wipe it\n")


def run_demo(out: str | Path = DEFAULT_OUT, users: int = DEFAULT_USERS, seed: int = 0,
             keep_server: bool = False, epochs: int | None = None,
             log=None) -> dict:
    """The demo pipeline; returns paths, timings and the top rings."""
    from graph_build.generate import generate
    from graph_build.build import build
    from graph_build.stores.falkor import FalkorStore

    from graphgnn.model.checkpoint import load_scorer
    from graphgnn.scores.report import build_report
    from graphgnn.cli.rings import top_rings
    from graphgnn.scores.rescore import score_all
    from graphgnn.cli.train import run_lightning_cli

    log = log or (lambda m: print(f"[demo] {m}", file=sys.stderr, flush=True))
    out = Path(out).resolve()
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    _fresh(out)
    home, data = out / "store", out / "data"
    os.environ["FRAUDRING_HOME"] = str(home)  # later `fraudring` commands find this store

    t = time.perf_counter()
    log(f"generating {users:,} users into {data}")
    generate(data, users=users, seed=seed)
    seconds["generate"] = time.perf_counter() - t

    store = FalkorStore(home=home)
    try:
        t = time.perf_counter()
        log("building the graph")
        build(data, store, log=lambda _m: None)
        seconds["build"] = time.perf_counter() - t

        t = time.perf_counter()
        log("training (configs/demo.yaml)")
        args = ["fit", "--config", str(CONFIG), "--data.data_dir", str(data),
                "--data.store", "embedded", "--data.store_home", str(home),
                "--data.cache_dir", str(out / "cache"),
                "--trainer.default_root_dir", str(out / "runs")]
        if epochs is not None:
            args += ["--trainer.max_epochs", str(epochs)]
        run_lightning_cli(args)
        ckpt = out / "runs" / "latest.ckpt"
        seconds["train"] = time.perf_counter() - t

        t = time.perf_counter()
        log(f"scoring with {ckpt}")
        scorer = load_scorer(ckpt)
        result = score_all(store, scorer, reason="fraudring demo", log=log)
        seconds["score"] = time.perf_counter() - t

        t = time.perf_counter()
        report = build_report(store, out / "report", data_dir=data)
        seconds["report"] = time.perf_counter() - t
        rings = top_rings(store, 10)
    finally:
        store.close()
        if not keep_server:
            store.server.stop()
    seconds["total"] = time.perf_counter() - t0
    return {"out": str(out), "checkpoint": str(ckpt), "report": str(report),
            "store": str(home), "result": result, "rings": rings, "seconds": seconds}


def add_arguments(parser) -> None:
    parser.add_argument("--users", type=int, default=DEFAULT_USERS,
                        help=f"generated users (default {DEFAULT_USERS:,})")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"folder (default ./{DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument("--epochs", type=int, help="override the demo config's max_epochs")
    parser.add_argument("--keep-server", action="store_true",
                        help="leave the demo's embedded store running (to query it after)")


def run(args) -> int:
    from graphgnn.cli.rings import format_rings

    info = run_demo(args.out, args.users, args.seed, args.keep_server, args.epochs)
    print(info["result"].summary())
    print("\nTop rings:")
    print(format_rings(info["rings"]))
    timing = ", ".join(f"{k} {v:.1f}s" for k, v in info["seconds"].items())
    print(f"\nreport: {info['report']}\ncheckpoint: {info['checkpoint']}\ntimings: {timing}")
    if args.keep_server:
        print(f"store still running: FRAUDRING_HOME={info['store']} fraudring rings")
    return 0
