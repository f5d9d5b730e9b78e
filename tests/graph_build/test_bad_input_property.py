"""Property: no bad input ever reaches the store, and every kind is reported where it is.

For each kind of corruption (``corruptions.py``, ``corrupt_files.py``: ~55 kinds, each drawn
afresh per seed and per format) a build of a small data folder, through the ``fraudring build``
command, must exit non-zero naming the file, row, column and why (in the rejects file or, for a
file that cannot be read as a table, in the message), and leave the store byte for byte as it
was: the same files on disk after every case (the server writes each change to its append-only
file before it answers), and the same canonical dump (every node, relationship and property)
after the combined and subprocess cases and after all of them as before them. A base graph is
built once per module into a store of its own; every corrupted folder is a variation of those
base tables (150 users of the ``generated_dir`` fixture, with everything they reference).

``FRAUDRING_BADINPUT_SEED`` changes the draws (the failing seed is in every message).
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import corrupt_files  # noqa: F401 - registers the file-level kinds
from corruptions import BOTH, CSV, KINDS, PARQUET, Case, Expect
from graph_build.build import build
from graphgnn.cli import main as cli_main
from store_dump import canonical_dump, files_digest

SEED = int(os.environ.get("FRAUDRING_BADINPUT_SEED", "20260314"))
SUBSET_USERS = 150
EVENTS_PER_USER = 6
ROOT = Path(__file__).resolve().parents[2]


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).astype(object)
    return frame.where(frame != "", None)


@pytest.fixture(scope="module")
def base_frames(generated_dir) -> dict[str, pd.DataFrame]:
    """A consistent subset of the generated tables (every reference resolves), plus labels."""
    t = {p.stem: _read(p) for p in generated_dir.glob("*.csv")}
    users = t["users"].iloc[:SUBSET_USERS]
    keep = set(users["user_id"])
    orders = t["orders"][t["orders"]["user_id"].isin(keep)]
    events = t["events"][t["events"]["user_id"].isin(keep)].groupby("user_id").head(
        EVENTS_PER_USER)
    items = t["order_items"][t["order_items"]["order_id"].isin(set(orders["order_id"]))]
    labels = _read(generated_dir / "truth" / "labels.csv")
    labels = labels[labels["id"].isin(keep | set(orders["order_id"]))]
    if len(labels) < 3:  # make sure the labels table has rows to corrupt
        extra = pd.DataFrame({"entity": "user", "id": users["user_id"].iloc[:3],
                              "is_fraud": "false", "labeled_at": "1767225600000"})
        labels = pd.concat([labels, extra]).drop_duplicates(["entity", "id"])
    used = {c: set(orders[c].dropna()) | (set(events[c].dropna()) if c in events else set())
            for c in ("device_id", "address_id", "payment_id")}
    out = {"users": users, "orders": orders, "events": events, "order_items": items,
           "products": t["products"], "labels": labels}
    for table, column in (("devices", "device_id"), ("addresses", "address_id"),
                          ("payments", "payment_id")):
        out[table] = t[table][t[table][column].isin(used[column])]
    return {name: frame.reset_index(drop=True) for name, frame in out.items()}


@pytest.fixture(scope="module")
def base_store(tmp_path_factory, base_frames):
    """The base tables built into a store of their own."""
    from graph_build.stores.falkor import FalkorStore

    data = Case({k: v.copy() for k, v in base_frames.items()}, CSV).write(
        tmp_path_factory.mktemp("base_tables"))
    home = tmp_path_factory.mktemp("bad_input_store")
    store = FalkorStore(home=home)
    report = build(data, store, log=lambda _m: None)
    assert report.rows_rejected == 0 and report.rows_written > 1000
    yield Base(home, store, canonical_dump(store))
    store.close()
    store.server.stop()


class Base:
    """The base store and its canonical dump, taken once (a dump is the slow part)."""

    def __init__(self, home: Path, store, dump: list[str]) -> None:
        self.home, self.store, self.dump = home, store, dump

    def files(self) -> dict[str, str]:
        return files_digest(self.home / "db")

    def assert_unchanged(self, files_before: dict[str, str], what: str,
                         dump: bool = False) -> None:
        """The same bytes on disk as before this case (the server logs every write to its
        append-only file before it answers); with ``dump``, the same graph as the base too."""
        assert self.files() == files_before, f"{what}: the store's files changed"
        if dump:
            now, base = canonical_dump(self.store), self.dump
            self.dump = now  # a case that wrote fails alone, not every case after it
            assert now == base, f"{what}: the graph changed ({len(base)} -> {len(now)} lines)"


def _case(base_frames, kind_name: str, fmt: str, seed: int) -> tuple[Case, Expect, str]:
    kind = next(k for k in KINDS if k.name == kind_name)
    case = Case({k: v.copy() for k, v in base_frames.items()}, fmt)
    rng = random.Random(f"{seed}:{kind.name}:{fmt}")
    return case, kind.apply(case, rng), f"{kind.name} [{fmt}, seed {seed}]"


def _reported(rejects: Path) -> list[dict]:
    if not rejects.exists():
        return []
    with open(rejects, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _located(problem: dict, expect: Expect, fmt: str) -> bool:
    line = expect.line_in(fmt)
    name = Path(problem["file"]).name
    return (name.startswith(expect.table + ".")
            and (line is None or problem["row"] == str(line))
            and (expect.column is None or problem["column"] == expect.column)
            and expect.why.lower() in problem["why"].lower())


def _build_cli(folder: Path, rejects: Path, home: Path, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("FRAUDRING_HOME", str(home))
    capsys.readouterr()
    code = cli_main(["build", "--data", str(folder), "--store", "embedded",
                     "--rejects", str(rejects)])
    return code, capsys.readouterr().err


def _check(code: int, err: str, rejects: Path, expects: list[Expect], fmt: str, what: str):
    assert code != 0, f"{what}: the build succeeded\n{err}"
    assert "Traceback" not in err and "internal error" not in err, f"{what}: {err}"
    problems = _reported(rejects)
    for expect in expects:
        found = any(_located(p, expect, fmt) for p in problems)
        assert found, (f"{what}: no problem at {expect.table} line {expect.line_in(fmt)} "
                       f"column {expect.column!r} ({expect.why!r}); got "
                       f"{[(p['file'], p['row'], p['column'], p['why']) for p in problems][:6]}"
                       f"\n{err}")


CASES = [pytest.param(k.name, fmt, id=f"{k.name}-{fmt}") for k in KINDS for fmt in k.formats]


def test_enough_kinds_of_corruption():
    assert len(KINDS) >= 30 and len(CASES) >= 60
    assert {fmt for k in KINDS for fmt in k.formats} == set(BOTH)


@pytest.mark.parametrize(("kind_name", "fmt"), CASES)
def test_bad_input_is_located_and_writes_nothing(kind_name, fmt, base_frames, base_store,
                                                 tmp_path, monkeypatch, capsys):
    case, expect, what = _case(base_frames, kind_name, fmt, SEED)
    folder = case.write(tmp_path / "data")
    files = base_store.files()
    code, err = _build_cli(folder, tmp_path / "rejects.csv", base_store.home, monkeypatch,
                           capsys)
    _check(code, err, tmp_path / "rejects.csv", [expect], fmt, what)
    base_store.assert_unchanged(files, what)


@pytest.mark.parametrize("draw", range(4))
@pytest.mark.parametrize("fmt", BOTH)
def test_several_corruptions_at_once_are_all_reported(draw, fmt, base_frames, base_store,
                                                      tmp_path, monkeypatch, capsys):
    """Up to four cell-level corruptions in distinct tables: every one is in the rejects."""
    rng = random.Random(f"{SEED}:combo:{draw}:{fmt}")
    by_table: dict[str, list] = {}
    for k in KINDS:
        if k.value_level:
            by_table.setdefault(k.table, []).append(k)
    tables = rng.sample(sorted(by_table), 4)
    case = Case({k: v.copy() for k, v in base_frames.items()}, fmt)
    chosen = [rng.choice(by_table[t]) for t in tables]
    expects = [k.apply(case, rng) for k in chosen]
    folder = case.write(tmp_path / "data")
    files = base_store.files()
    code, err = _build_cli(folder, tmp_path / "rejects.csv", base_store.home, monkeypatch,
                           capsys)
    what = f"{[k.name for k in chosen]} [{fmt}, seed {SEED}, draw {draw}]"
    _check(code, err, tmp_path / "rejects.csv", expects, fmt, what)
    base_store.assert_unchanged(files, what, dump=True)


@pytest.mark.parametrize(("kind_name", "fmt"), [("nul_in_text", CSV),
                                                ("parquet_list_column", PARQUET)])
def test_bad_input_through_the_installed_command(kind_name, fmt, base_frames, base_store,
                                                 tmp_path):
    """The same through a separate ``fraudring build`` process (its exit code, its stderr)."""
    case, expect, what = _case(base_frames, kind_name, fmt, SEED)
    folder = case.write(tmp_path / "data")
    files = base_store.files()
    rejects = tmp_path / "rejects.csv"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from graphgnn.cli import main; sys.exit(main())",
         "build", "--data", str(folder), "--rejects", str(rejects), "--store", "embedded"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "FRAUDRING_HOME": str(base_store.home)})
    _check(proc.returncode, proc.stderr, rejects, [expect], fmt, what)
    assert proc.returncode == 2 and str(folder) in proc.stderr
    base_store.assert_unchanged(files, what, dump=True)


def test_after_every_case_the_graph_is_the_base_graph(base_store):
    """The canonical dump after all the cases above equals the one taken before them."""
    base_store.assert_unchanged(base_store.files(), "all cases", dump=True)


def test_a_utf8_byte_order_mark_at_the_start_is_fine(base_frames, tmp_path):
    """Spreadsheets write one: it is not part of the first column's name."""
    from graph_build.build import check_input

    case = Case({k: v.copy() for k, v in base_frames.items()}, CSV)
    folder = case.write(tmp_path / "data")
    (folder / "users.csv").write_bytes(b"\xef\xbb\xbf" + (folder / "users.csv").read_bytes())
    result, _ = check_input(folder)
    assert result.ok and len(result.tables["users"]) == SUBSET_USERS
