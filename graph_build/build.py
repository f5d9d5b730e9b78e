"""``fraudring build``: validate input tables, map them to the graph, write it with batched MERGE.

Order of work is what keeps the store safe: every table is read and validated before the first
write, so bad input leaves the store as it was. Writes are ``UNWIND $rows … MERGE`` per label and
relationship type (nodes first, so relationships find both ends); re-running the same input
changes nothing, and a later file with new rows adds only those.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from graph_build import attributes, attributes_io
from graph_build.ingest import begin_ingest, finish_ingest
from graph_build.read import check_input
from graph_build.stores.base import DEFAULT_BATCH, GraphStore
from graph_build.to_graph import tables_to_frames
from graph_build.write_plan import write_plan

# Rows are turned into Python dicts this many batches at a time (bounds memory).
ROW_CHUNK_BATCHES = 5


@dataclass
class BuildReport:
    """What a build read, rejected and wrote."""

    rows_read: int = 0
    rows_rejected: int = 0
    rows_written: int = 0
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    rejects_file: str | None = None
    ingest_seq: int | None = None
    #: Label rows naming an id in none of the input's tables, per entity (see validate).
    labels_unknown: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _progress_bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="row", file=sys.stderr, leave=False,
                disable=not sys.stderr.isatty(), mininterval=0.5)


#: A build that wrote at least this many rows asks the store to compact itself afterwards.
COMPACT_MIN_ROWS = 20_000


def build(
    data_dir: str | Path,
    store: GraphStore | Callable[[], GraphStore],
    mapping: str | Path | None = None,
    lenient: bool = False,
    rejects: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH,
    log=None,
    allow_outside_paths: bool = False,
) -> BuildReport:
    """Validate the tables of ``data_dir`` and merge them into ``store``.

    Args:
        data_dir: folder with canonical tables, or the source files of ``mapping``.
        store: the graph store to write to, or a function that opens it — called only once
            the input has passed validation, so bad input never even starts a server.
        mapping: a YAML mapping file for other layouts (see :mod:`graph_build.layouts`).
        lenient: load the good rows and reject the rest (default: reject the whole input).
        rejects: where to write the rejects CSV (default ``DATA_DIR/rejects.csv``).
        batch_size: rows per ``UNWIND`` statement.
        log: callable for progress lines (default: print to stderr).
        allow_outside_paths: let the mapping's source files lie outside ``data_dir``.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    report = BuildReport()
    t0 = time.perf_counter()
    result, report.rejects_file = check_input(data_dir, mapping, lenient, rejects,
                                              allow_outside_paths)
    report.rows_read, report.rows_rejected = result.total_rows, result.rejected_rows
    if result.problems:
        log(f"lenient: rejected {result.rejected_rows} of {result.total_rows} rows "
            f"({len(result.problems)} problems), listed in {report.rejects_file}")
    report.labels_unknown = result.unknown_labels
    if result.unknown_labels:
        log(f"labels: {sum(result.unknown_labels.values())} rows name an id this input does not "
            f"have ({', '.join(f'{k} {v}' for k, v in result.unknown_labels.items())}); they "
            "label only nodes an earlier build wrote")
    t1 = time.perf_counter()
    frames = tables_to_frames(result.tables, result.attributes)
    labels = result.tables.get("labels")
    result.tables = {}  # the frames are all that is written; let the tables go (memory)
    if not isinstance(store, GraphStore):
        store = store()
    store.ensure_schema()
    # One kind per attribute across builds: a conflict stops the build before any write.
    frames.attributes = attributes.merge(attributes_io.read_declaration(store), frames.attributes)
    report.ingest_seq = seq = begin_ingest(store)
    t2 = time.perf_counter()
    plan = list(write_plan(frames, labels))
    t3 = time.perf_counter()
    bar = _progress_bar(sum(len(frame) for _, _, frame, _ in plan), "build")
    chunk = batch_size * ROW_CHUNK_BATCHES
    for what, query, frame, make_rows in plan:
        bar.set_description(f"build {what}")
        for start in range(0, len(frame), chunk):
            rows = make_rows(frame.iloc[start:start + chunk])
            store.write_rows(query, rows, batch_size=batch_size, progress=bar.update,
                             params={"seq": seq})
        log(f"  {what:<14} {len(frame):>10,} rows")
        report.rows_written += len(frame)
    bar.close()
    finish_ingest(store, seq)
    t_reload = time.perf_counter()
    if report.rows_written >= COMPACT_MIN_ROWS and store.compact():
        log("  reloaded the embedded store from its snapshot (faster label writes after a load)")
        report.seconds["reload"] = time.perf_counter() - t_reload
    t4 = time.perf_counter()
    report.nodes = {k: v for k, v in frames.summary()["nodes"].items() if v}
    report.relationships = {k: v for k, v in frames.summary()["relationships"].items() if v}
    report.seconds |= {"validate": t1 - t0, "map": (t2 - t1) + (t3 - t2), "write": t4 - t3,
                       "total": t4 - t0}
    return report
