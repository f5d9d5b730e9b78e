"""``fraudring build``: validate input tables, map them to the graph, write it with batched MERGE.

Order of work is what keeps the store safe: every table is read and validated before the first
write, so bad input leaves the store as it was. Writes are ``UNWIND $rows … MERGE`` per label and
relationship type (nodes first, so relationships find both ends); re-running the same input
changes nothing, and a later file with new rows adds only those.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from graph_build import attributes, attributes_io, cypher, schema
from graph_build.errors import ConfigError, ValidationError
from graph_build.frames import GraphFrames
from graph_build.to_graph import tables_to_frames
from graph_build.stores.base import DEFAULT_BATCH, GraphStore
from graph_build.tables import RawTable, find_tables, read_table
from graph_build.validate import ValidationResult, validate_tables, write_rejects

MAX_PROBLEMS_SHOWN = 10
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


def _column(frame: pd.DataFrame, name: str) -> list:
    """A column as Python values with None for missing (the falkordb client inlines params)."""
    values = frame[name]
    if pd.api.types.is_float_dtype(values.dtype) and not isinstance(values.dtype, pd.Float64Dtype):
        arr = values.to_numpy()
        return [None if v != v else float(v) for v in arr.tolist()]
    obj = values.astype(object)
    return obj.where(values.notna(), None).tolist()


def _prop_maps(frame: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """One property map per row, leaving out missing values (``SET +=`` would erase them)."""
    columns = [_column(frame, n) for n in names]
    if not columns:
        return [{} for _ in range(len(frame))]
    if all(None not in col for col in columns):  # the common case: no filtering per row
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    return [{n: v for n, v in zip(names, values, strict=True) if v is not None}
            for values in zip(*columns, strict=True)]


def node_rows(frame: pd.DataFrame, label: str, extra: tuple[str, ...] = ()) -> list[dict]:
    """Rows for ``build/merge_nodes*``: key, props without missing values (and first_seen).

    ``extra``: validated attribute properties (``attr_*``) written in the same property map.
    """
    spec = schema.node(label)
    with_first_seen = spec.time == "first_seen"
    props = [p for p in spec.properties if not (with_first_seen and p == "first_seen")]
    props += list(extra)
    keys = _column(frame, spec.key)
    props_list = _prop_maps(frame, [p for p in props if p in frame.columns])
    rows: list[dict[str, Any]] = [{"key": k, "props": m} for k, m in
                                  zip(keys, props_list, strict=True)]
    if with_first_seen:
        for row, first in zip(rows, _column(frame, "first_seen"), strict=True):
            row["first_seen"] = None if first is None else int(first)
    return rows


def rel_rows(frame: pd.DataFrame, rel_type: str) -> list[dict]:
    """Rows for ``build/merge_rels*``: src, dst and properties (or times when aggregated)."""
    spec = schema.rel(rel_type)
    src, dst = _column(frame, "src"), _column(frame, "dst")
    if spec.aggregated:
        first = frame["first_seen"].to_numpy(dtype=np.int64).tolist()
        last = frame["last_seen"].to_numpy(dtype=np.int64).tolist()
        times = [t.tolist() for t in frame["times"]]
        return [
            {"src": s, "dst": d, "first_seen": f, "last_seen": la, "times": t}
            for s, d, f, la, t in zip(src, dst, first, last, times, strict=True)
        ]
    props_list = _prop_maps(frame, [p for p in spec.properties if p in frame.columns])
    return [{"src": s, "dst": d, "props": m}
            for s, d, m in zip(src, dst, props_list, strict=True)]


def label_rows(sub: pd.DataFrame) -> list[dict]:
    """Rows for ``build/set_labels``: key, verdict ('fraud' | 'legit') and labeled_at."""
    when = _column(sub, "labeled_at")
    return [
        {"key": key, "verdict": "fraud" if bool(fraud) else "legit", "labeled_at": at}
        for key, fraud, at in zip(_column(sub, "id"), _column(sub, "is_fraud"), when,
                                  strict=True)
    ]


RowMaker = Callable[[pd.DataFrame], list[dict]]


def write_plan(
    frames: GraphFrames, labels: pd.DataFrame | None = None
) -> Iterator[tuple[str, str, pd.DataFrame, RowMaker]]:
    """(what, statement text, frame, row maker) for every label, type, then verdicts.

    Rows are made from slices of the frame as they are written (see :func:`build`), so a
    million-user build never holds every row as Python dicts at once.
    """
    for label in schema.NODES:
        frame = frames.nodes.get(label)
        if frame is None or frame.empty:
            continue
        name = ("build/merge_nodes_first_seen" if schema.node(label).time == "first_seen"
                else "build/merge_nodes")
        extra = tuple(attributes.columns(frames.attributes.get(label, {})))
        yield label, cypher.render(name, label=label), frame, partial(node_rows, label=label,
                                                                      extra=extra)
    for rel_type, spec in schema.RELATIONSHIPS.items():
        frame = frames.rels.get(rel_type)
        if frame is None or frame.empty:
            continue
        name = "build/merge_rels_aggregated" if spec.aggregated else "build/merge_rels"
        yield (rel_type, cypher.render(name, rel_type=rel_type), frame,
               partial(rel_rows, rel_type=rel_type))
    declared = attributes_io.schema_rows(frames.attributes)
    if len(declared):
        yield ("attributes", cypher.render("build/merge_attribute_schema"), declared,
               attributes_io.schema_row_maker)
    if labels is not None and len(labels):
        for entity, label in schema.LABELLED_ENTITIES.items():
            subset = labels[labels["entity"] == entity]
            if len(subset):
                yield (f"{label} labels", cypher.render("build/set_labels", label=label),
                       subset, label_rows)


def read_input(data_dir: str | Path, mapping: str | Path | None = None,
               allow_outside_paths: bool = False) -> dict[str, RawTable]:
    """The canonical raw tables of a data folder, through a mapping file when one is given.

    ``allow_outside_paths`` lets a mapping's source files lie outside ``data_dir``.
    """
    if mapping:
        from graph_build.layouts import apply_mapping

        return apply_mapping(mapping, data_dir, allow_outside=allow_outside_paths)
    return {name: read_table(path, name) for name, path in find_tables(data_dir).items()}


def _progress_bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="row", file=sys.stderr, leave=False,
                disable=not sys.stderr.isatty(), mininterval=0.5)


def check_input(
    data_dir: str | Path,
    mapping: str | Path | None = None,
    lenient: bool = False,
    rejects: str | Path | None = None,
    allow_outside_paths: bool = False,
) -> tuple[ValidationResult, str | None]:
    """Read and validate; write the rejects file when there are problems.

    Raises:
        ValidationError: problems were found and ``lenient`` is off; the message names the
            first ones and the rejects file.
    """
    target = Path(rejects) if rejects else Path(data_dir) / "rejects.csv"
    try:
        raw = read_input(data_dir, mapping, allow_outside_paths)
    except ValidationError as e:  # a file that cannot be read at all: list it too
        if e.problems:  # written even when the error has a hint of its own
            listed = f"listed in {_rejects(e.problems, {}, target)}"
            e.hint = f"{e.hint}; {listed}" if e.hint else listed
        raise
    from graph_build.layouts import read_declaration

    result = validate_tables(raw, lenient=lenient, declared=read_declaration(data_dir, mapping))
    rejects_file = None
    if result.problems:
        rejects_file = _rejects(result.problems, raw, target)
        emptied = [name for name in ("users", "orders")
                   if name in raw and len(raw[name].frame) and not len(
                       result.tables.get(name, ()))]
        if not lenient or emptied:
            shown = "\n  ".join(str(p) for p in result.problems[:MAX_PROBLEMS_SHOWN])
            more = len(result.problems) - MAX_PROBLEMS_SHOWN
            tail = f"\n  … and {more} more" if more > 0 else ""
            head = (f"every row of {' and '.join(emptied)} was rejected" if emptied else
                    f"{len(result.problems)} problem(s) in the input")
            raise ValidationError(
                f"{head}; nothing was written:\n  {shown}{tail}",
                result.problems,
                hint=f"every bad row is listed in {rejects_file}; fix them, or pass --lenient "
                "to load the good rows only",
            )
    return result, rejects_file


def _rejects(problems: list, raw: dict[str, RawTable], target: Path) -> str:
    """Write the rejects file; an unwritable path is a clear error, not a traceback."""
    try:
        return str(write_rejects(problems, raw, target))
    except OSError as e:
        raise ConfigError(f"cannot write the rejects file {target}: {e.strerror or e}",
                          hint="pass --rejects PATH in a writable folder") from e


def begin_ingest(store: GraphStore, now_ms: int | None = None) -> int:
    """Open an ingest (this build): the next ingest sequence number, recorded as running.

    Every node and relationship this build creates or changes carries it (``ingest_seq``), so
    rescoring tracks change by ingestion, not by event time: late and backfilled rows count.
    """
    import os
    import secrets
    import socket

    now = int(time.time() * 1000) if now_ms is None else now_ms
    name = f"build-{now}-{secrets.token_hex(4)}"
    store.write(cypher.render("build/ingest_begin"), {
        "name": name, "now": now, "owner": f"{socket.gethostname()}:{os.getpid()}"})
    found = store.read(cypher.render("build/ingest_read"), {"name": name})
    return int(found[0]["seq"])


def finish_ingest(store: GraphStore, seq: int) -> None:
    """Mark the ingest finished: rescoring's watermark may now pass its sequence number."""
    store.write(cypher.render("build/ingest_finish"),
                {"seq": seq, "now": int(time.time() * 1000)})


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
