"""Shared plumbing for the benchmarks: the machine's name, timing, peak memory, perf.csv rows."""

from __future__ import annotations

import csv
import os
import platform
import resource
import time
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PERF_CSV = RESULTS / "perf.csv"
PERF_COLUMNS = ["benchmark", "ours", "reference", "ratio", "unit", "machine"]


def machine() -> str:
    """A short description of where the numbers were measured."""
    cores = os.cpu_count() or 0
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = ""
    try:
        import torch

        if torch.cuda.is_available():
            gpu = f", {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return f"{platform.machine()} {cores} cores {mem_gib:.0f} GiB{gpu}"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed():
    """``with timed() as t: …`` then ``t()`` is the elapsed seconds."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def record(rows: list[dict], path: Path = PERF_CSV) -> None:
    """Replace the rows of the same benchmarks in ``perf.csv`` (one current figure each)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing: list[dict] = []
    if path.exists():
        with open(path, newline="") as f:
            existing = list(csv.DictReader(f))
    names = {r["benchmark"] for r in rows}
    kept = [r for r in existing if r["benchmark"] not in names]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=PERF_COLUMNS)
        writer.writeheader()
        for row in kept + rows:
            writer.writerow({k: row.get(k, "") for k in PERF_COLUMNS})


def perf_row(benchmark: str, ours: float, reference: float | None, unit: str) -> dict:
    """One perf.csv row; ``ratio`` is ours / reference (read it with the unit)."""
    ratio = f"{ours / reference:.3f}" if reference else ""
    return {"benchmark": benchmark, "ours": f"{ours:.6g}",
            "reference": "" if reference is None else f"{reference:.6g}",
            "ratio": ratio, "unit": unit, "machine": machine()}


def print_table(rows: list[dict]) -> None:
    """The rows as an aligned table on stdout."""
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in PERF_COLUMNS}
    print("  ".join(c.ljust(widths[c]) for c in PERF_COLUMNS))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in PERF_COLUMNS))
