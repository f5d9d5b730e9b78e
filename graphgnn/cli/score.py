"""Score every node with a checkpoint and write scores, flags, reasons and rings to the graph.

``fraudring score --ckpt FILE [--store STORE] [--as-of T] [--top-k N | --contamination R |
--threshold S]``: a full scoring pass under the rescore lease (so it never interleaves with a
scheduled ``rescore``). The default as-of is the latest event in the graph (printed; a warning
when far from the wall clock). A checkpoint whose schema or features do not fit the graph is
refused.
"""

from __future__ import annotations

from graphgnn.cli import options as opts


def add_arguments(parser) -> None:
    opts.add_checkpoint_option(parser)
    opts.add_store_option(parser)
    opts.add_as_of_option(parser)
    opts.add_threshold_options(parser)
    parser.add_argument("--no-rings", action="store_true", help="skip ring detection")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    import json
    from dataclasses import asdict

    from graph_build.stores import open_store

    from graphgnn.cli.rescore import Logger
    from graphgnn.scores.rescore import score_all
    from graphgnn.timeutil import parse_as_of

    log = Logger()
    threshold = opts.threshold_from_args(args)
    as_of = parse_as_of(args.as_of)
    scorer = opts.load_checkpoint(args.ckpt)
    store = open_store(args.store)
    try:
        result = score_all(store, scorer, threshold=threshold, as_of=as_of,
                           rings=not args.no_rings, log=log)
    finally:
        store.close()
    log(result.summary())
    if args.json:
        print(json.dumps(asdict(result), default=str))
    return 0
