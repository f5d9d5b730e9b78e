"""Graph-side commands: ``generate``, ``build``, ``stats``, ``cypher`` and ``db``.

None of them imports torch, so they start fast. Each module of ``graphgnn.cli`` has the same
shape: ``add_arguments(parser)`` declares the command's own options (shared ones such as
``--store`` are declared once, in :mod:`graphgnn.cli.main`) and ``run(args) -> int`` runs it.
"""

from __future__ import annotations

import argparse
import json
import sys

from graph_build.errors import ConfigError, FraudringError


def _eprint(*args) -> None:
    print(*args, file=sys.stderr)


def open_store(args):
    """The store named by ``--store`` (or the environment's default)."""
    from graph_build.stores import open_store as _open

    return _open(getattr(args, "store", None))


def require_built(store) -> None:
    """Refuse to print empty results from a store no build ever wrote to."""
    rows = store.read("MATCH (n) RETURN count(n) AS n", {})
    if not rows or not int(rows[0]["n"] or 0):
        raise FraudringError(f"the store at {store.location} holds no graph yet",
                             hint="build one first: fraudring build --data DIR "
                                  "(or fraudring demo)")


def parse_param(text: str) -> tuple[str, object]:
    """``key=value`` from ``--param``: the value as JSON when it parses, else as text."""
    if "=" not in text:
        raise ConfigError(f"--param {text!r}: expected key=value")
    key, value = text.split("=", 1)
    if not key.strip().isidentifier():
        raise ConfigError(f"--param {text!r}: {key.strip()!r} is not a parameter name",
                          hint="parameter names are letters, digits and _ (e.g. limit=5)")
    try:
        parsed: object = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


# -- generate --------------------------------------------------------------------------------
def add_generate(parser: argparse.ArgumentParser) -> None:
    from graph_build.generate import add_generate_arguments

    add_generate_arguments(parser)


def run_generate(args) -> int:
    from graph_build.generate import run_generate as _run

    try:
        return _run(args)
    except ValueError as e:  # the generator's argument checks
        raise ConfigError(str(e)) from e


# -- build -----------------------------------------------------------------------------------
def add_build(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="folder with the input tables")
    parser.add_argument("--mapping", help="YAML mapping for tables in another layout")
    parser.add_argument("--lenient", action="store_true",
                        help="load the good rows and reject the rest (default: reject all)")
    parser.add_argument("--rejects", help="rejects CSV path (default DATA/rejects.csv)")
    parser.add_argument("--json", action="store_true", help="print the build report as JSON")
    parser.add_argument("--allow-outside-paths", action="store_true",
                        help="let the mapping's source files lie outside --data (default: a "
                        "mapping may read only files inside the data folder)")


def run_build(args) -> int:
    from graph_build.build import build

    opened = []

    def open_after_validation():
        # The store is opened only once every table passed validation: bad input never
        # starts (or touches) a server.
        opened.append(open_store(args))
        return opened[0]

    try:
        report = build(args.data, open_after_validation, mapping=args.mapping,
                       lenient=args.lenient, rejects=args.rejects,
                       allow_outside_paths=args.allow_outside_paths)
    finally:
        for store in opened:
            store.close()
    location = opened[0].location if opened else "the store"
    rate = report.rows_written / max(report.seconds.get("total", 0), 1e-9)
    _eprint(f"built {report.rows_written:,} rows into {location} in "
            f"{report.seconds['total']:.1f} s ({rate:,.0f} rows/s)"
            + (f"; rejected {report.rows_rejected:,} rows -> {report.rejects_file}"
               if report.rows_rejected else ""))
    if args.json:
        print(json.dumps(report.as_dict(), default=str))
    return 0


# -- stats -----------------------------------------------------------------------------------
def add_stats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run_stats(args) -> int:
    from graph_build.stats import format_stats, graph_stats

    store = open_store(args)
    try:
        require_built(store)
        stats = graph_stats(store)
    finally:
        store.close()
    print(json.dumps(stats, default=str) if args.json else format_stats(stats))
    return 0


# -- cypher ----------------------------------------------------------------------------------
def add_cypher(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="?", help="Cypher text")
    parser.add_argument("-f", "--file", help="a .cypher file")
    parser.add_argument("--param", action="append", metavar="K=V",
                        help="query parameter (JSON value or text); repeatable")
    parser.add_argument("--write", action="store_true",
                        help="allow a query that changes the graph (e.g. setting a verdict)")
    parser.add_argument("--json", action="store_true", help="rows as a JSON list")


def run_cypher(args) -> int:
    from graph_build.query import format_table, run_query

    if bool(args.query) == bool(args.file):
        raise ConfigError("give a QUERY or -f FILE (one of them)")
    params = dict(parse_param(p) for p in args.param or [])
    store = open_store(args)
    try:
        rows = run_query(store, query=args.query, file=args.file, params=params,
                         allow_write=args.write)
        if not rows and not args.write:
            require_built(store)
    finally:
        store.close()
    print(json.dumps(rows, default=str) if args.json else format_table(rows))
    return 0


# -- db --------------------------------------------------------------------------------------
def add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["start", "stop", "status"],
                        help="start, stop or report the embedded store's server")


def run_db(args) -> int:
    from graph_build.errors import StoreError
    from graph_build.stores.embedded_server import EmbeddedServer

    # ``db status`` exit codes: running, not running, running but not answering (stuck).
    running, not_running, stuck = 0, 3, 4

    server = EmbeddedServer()
    if args.action == "start":
        info = server.start()
        print(f"running: {info.describe()} (data in {server.home})")
    elif args.action == "stop":
        print("stopped" if server.stop() else "not running")
    else:
        try:
            info = server.status()
        except StoreError as e:  # a server holds the folder but does not answer
            print(f"stuck: {e} (data in {server.home})")
            if e.hint:
                _eprint(f"hint: {e.hint}")
            return stuck
        print(f"running: {info.describe()} (data in {server.home})" if info else
              f"not running (data folder {server.home})")
        return running if info else not_running
    return 0
