"""Prometheus text-format metrics of rescoring, as a textfile for node_exporter.

The file is rewritten atomically after every run (node_exporter's textfile collector reads it;
a half-written file would be a scrape error). Counters (runs by status) carry over from the
previous file, so they survive restarts of a cron job. The same text can be served on a
``/metrics`` endpoint (:func:`render`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

PREFIX = "fraudring_rescore"
STATUSES = ("succeeded", "skipped", "failed", "config_error", "store_unreachable")
_COUNTER = re.compile(rf'^{PREFIX}_runs_total\{{status="(\w+)"\}} (\d+(?:\.\d+)?)$')
_LAST_OK = re.compile(rf"^{PREFIX}_last_success_timestamp_seconds (\S+)$")


def previous(path: Path) -> tuple[dict[str, int], float | None]:
    """Counters and the last success time in an earlier metrics file."""
    counts: dict[str, int] = {}
    last_ok = None
    try:
        for line in path.read_text().splitlines():
            if m := _COUNTER.match(line):
                counts[m.group(1)] = int(float(m.group(2)))
            elif m := _LAST_OK.match(line):
                last_ok = float(m.group(1))
    except OSError:
        pass
    return counts, last_ok


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render(summary: dict[str, Any], counts: dict[str, int], last_ok: float | None) -> str:
    """The metrics text for one run's summary (see :mod:`graphgnn.cli.rescore`)."""
    lines = [f"# HELP {PREFIX}_runs_total Rescore runs by outcome.",
             f"# TYPE {PREFIX}_runs_total counter"]
    lines += [f'{PREFIX}_runs_total{{status="{s}"}} {counts.get(s, 0)}' for s in STATUSES]
    gauges = [
        ("last_exit_code", "Exit code of the last run.", summary.get("exit_code")),
        ("last_duration_seconds", "Wall time of the last run.", summary.get("seconds")),
        ("nodes_scored", "Nodes the last run wrote.", summary.get("nodes_scored")),
        ("nodes_flagged", "Flagged nodes after the last run.", summary.get("flagged_total")),
        ("last_success_timestamp_seconds", "When a run last succeeded (unix time).", last_ok),
        ("score_psi", "PSI of the score distribution vs the training reference.",
         summary.get("drift", {}).get("score_psi")),
        ("feature_psi_max", "Largest feature PSI vs the training reference.",
         summary.get("drift", {}).get("feature_psi_max")),
        ("alerts", "Alerts the last run raised.", len(summary.get("alerts") or [])),
    ]
    for name, help_, value in gauges:
        if value is None:
            continue
        lines += [f"# HELP {PREFIX}_{name} {help_}", f"# TYPE {PREFIX}_{name} gauge",
                  f"{PREFIX}_{name} {float(value):g}"]
    rings = summary.get("rings") or {}
    if rings:
        lines += [f"# HELP {PREFIX}_rings Rings after the last run: open, new, grown, closed.",
                  f"# TYPE {PREFIX}_rings gauge"]
        lines += [f'{PREFIX}_rings{{state="{k}"}} {int(v)}' for k, v in rings.items()]
    features = summary.get("drift", {}).get("features") or {}
    if features:
        lines += [f"# HELP {PREFIX}_feature_psi PSI of each input feature.",
                  f"# TYPE {PREFIX}_feature_psi gauge"]
        lines += [f'{PREFIX}_feature_psi{{feature="{_label(k)}"}} {float(v):g}'
                  for k, v in sorted(features.items())]
    return "\n".join(lines) + "\n"


def write_textfile(path: str | Path, summary: dict[str, Any]) -> None:
    """Count this run, then rewrite ``path`` atomically (tmp file + rename)."""
    path = Path(path)
    counts, last_ok = previous(path)
    status = summary.get("status", "failed")
    counts[status] = counts.get(status, 0) + 1
    if status == "succeeded" and summary.get("finished_at"):
        last_ok = summary["finished_at"] / 1000
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render(summary, counts, last_ok))
    tmp.replace(path)
