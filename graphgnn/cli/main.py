"""The ``fraudring`` command: one entry point for building, training, scoring and reading.

Sub-commands that need torch import it lazily, so ``build``, ``stats`` and ``cypher`` start
fast. Every error a user can act on is one line (plus a hint) on stderr and a non-zero exit;
machine-readable output (``--json``) goes alone to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from graph_build.errors import FraudringError

STORE_HELP = ("'embedded' (default; FalkorDB under FRAUDRING_HOME or ./.fraudring) or a "
              "bolt://, neo4j://, neo4j+s:// URI (default: NEO4J_URI when set)")


def _eprint(*args) -> None:
    print(*args, file=sys.stderr)


def _open_store(args):
    from graph_build.stores import open_store

    return open_store(getattr(args, "store", None))


def _parse_param(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise FraudringError(f"--param {text!r}: expected key=value")
    key, value = text.split("=", 1)
    try:
        parsed: object = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


# -- sub-commands ---------------------------------------------------------------------------
def cmd_generate(args) -> int:
    from graph_build.generate import run_generate

    try:
        return run_generate(args)
    except ValueError as e:  # the generator's argument checks
        raise FraudringError(str(e)) from e


def cmd_build(args) -> int:
    from graph_build.build import build

    opened = []

    def open_after_validation():
        opened.append(_open_store(args))
        return opened[0]

    try:
        report = build(args.data, open_after_validation, mapping=args.mapping,
                       lenient=args.lenient, rejects=args.rejects)
    finally:
        for store in opened:
            store.close()
    store = opened[0]
    rate = report.rows_written / max(report.seconds.get("total", 0), 1e-9)
    _eprint(f"built {report.rows_written:,} rows into {store.location} in "
            f"{report.seconds['total']:.1f} s ({rate:,.0f} rows/s)"
            + (f"; rejected {report.rows_rejected:,} rows -> {report.rejects_file}"
               if report.rows_rejected else ""))
    if args.json:
        print(json.dumps(report.as_dict(), default=str))
    return 0


def cmd_stats(args) -> int:
    from graph_build.stats import format_stats, graph_stats

    store = _open_store(args)
    try:
        stats = graph_stats(store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(stats, default=str))
    else:
        print(format_stats(stats))
    return 0


def cmd_cypher(args) -> int:
    from graph_build.query import format_table, run_query

    if bool(args.query) == bool(args.file):
        raise FraudringError("give a QUERY or -f FILE (one of them)")
    params = dict(_parse_param(p) for p in args.param or [])
    store = _open_store(args)
    try:
        rows = run_query(store, query=args.query, file=args.file, params=params,
                         allow_write=args.write)
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, default=str))
    else:
        print(format_table(rows))
    return 0


def cmd_db(args) -> int:
    from graph_build.stores.embedded_server import EmbeddedServer

    server = EmbeddedServer()
    if args.action == "start":
        info = server.start()
        print(f"running: {info.describe()} (data in {server.home})")
    elif args.action == "stop":
        print("stopped" if server.stop() else "not running")
    else:
        info = server.status()
        print(f"running: {info.describe()} (data in {server.home})" if info else
              f"not running (data folder {server.home})")
        return 0 if info else 3
    return 0


def _lazy(module: str, func: str) -> Callable:
    """A sub-command implemented in a torch-using module, imported only when run."""

    def run(args) -> int:
        import importlib

        return getattr(importlib.import_module(module), func)(args)

    return run


# -- parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fraudring",
        description="GNN fraud-ring detector: tables -> graph -> scores, rings and reasons.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("generate", help="write synthetic tables with planted fraud rings")
    from graph_build.generate import add_generate_arguments

    add_generate_arguments(p)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("build", help="validate tables and merge them into the graph store")
    p.add_argument("--data", required=True, help="folder with the input tables")
    p.add_argument("--mapping", help="YAML mapping for tables in another layout")
    p.add_argument("--store", help=STORE_HELP)
    p.add_argument("--lenient", action="store_true",
                   help="load the good rows and reject the rest (default: reject all)")
    p.add_argument("--rejects", help="rejects CSV path (default DATA/rejects.csv)")
    p.add_argument("--json", action="store_true", help="print the build report as JSON")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("stats", help="summarise the graph, scores, rings and runs")
    p.add_argument("--store", help=STORE_HELP)
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("cypher", help="run a read query (or a file from cypher/) as a table")
    p.add_argument("query", nargs="?", help="Cypher text")
    p.add_argument("-f", "--file", help="a .cypher file")
    p.add_argument("--param", action="append", metavar="K=V",
                   help="query parameter (JSON value or text); repeatable")
    p.add_argument("--store", help=STORE_HELP)
    p.add_argument("--write", action="store_true",
                   help="allow a query that changes the graph (e.g. setting a verdict)")
    p.add_argument("--json", action="store_true", help="rows as a JSON list")
    p.set_defaults(func=cmd_cypher)

    p = sub.add_parser("db", help="the embedded store's server")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.set_defaults(func=cmd_db)

    _add_model_commands(sub)
    return parser


def _add_model_commands(sub) -> None:
    """Commands served by graphgnn modules; each module adds its own arguments."""
    # `train` hands its whole argument list to LightningCLI (see main()).
    sub.add_parser("train", help="LightningCLI: fit|validate|test|predict --config FILE",
                   add_help=False)
    for name, module in (
        ("score", "graphgnn.cli.score"),
        ("rescore", "graphgnn.scores.rescore"),
        ("rings", "graphgnn.cli.rings"),
        ("report", "graphgnn.scores.report"),
        ("demo", "graphgnn.cli.demo"),
    ):
        try:
            import importlib

            mod = importlib.import_module(module)
        except ImportError:
            continue  # not built yet
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0])
        mod.add_arguments(p)
        p.add_argument("--store", help=STORE_HELP) if not any(
            a.dest == "store" for a in p._actions) else None
        p.set_defaults(func=_lazy(module, "run"))


def main(argv: list[str] | None = None) -> int:
    """Run the ``fraudring`` command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "train":
            from graphgnn.cli.train import run_lightning_cli

            run_lightning_cli(argv[1:])
            return 0
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except FraudringError as e:
        _eprint(f"fraudring: error: {e}")
        if e.hint:
            _eprint(f"hint: {e.hint}")
        return 2
    except KeyboardInterrupt:
        _eprint("fraudring: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
