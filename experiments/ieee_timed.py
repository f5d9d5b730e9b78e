"""IEEE-CIS with its real time (``../shared/data/ieee_cis_timed``) on the point-in-time protocol.

The slice (5,000 labelled transactions, 109 fraud, ~24 h of ``TransactionDT``) is read through
the product's mapping ``configs/mappings/ieee_cis_timed.yaml`` (card1 -> user and payment
method, addr1 -> address, DeviceInfo -> device, ProductCD -> product, each row an order) and
prepared by the pipeline every quality run uses (:func:`graphgnn.model.prepare.prepare_graph`,
temporal split: train read at T1, validation at T2, test at the end, orders at their own time;
label-aware context columns read only labels known when each window opens).

Label dates: IEEE-CIS publishes **no label date** (``isFraud`` is final, from chargebacks that
in reality arrive weeks later). With one day of data a realistic delay would leave nothing to
train on, so a label becomes known a fixed :data:`MATURITY_HOURS` after its transaction
(``labeled_at = TransactionDT + 2 h``), and an unreported user counts as legit in training only
once its last activity is that old at T1. Test rows are judged on the final ``isFraud``.

Users (cards): a card is fraud when any of its transactions is; it is reported
:data:`MATURITY_HOURS` after its first fraudulent transaction.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.ieee_rows import first_rows
from experiments.quality import QUALITY_CSV, RESULTS, bootstrap_rows, evaluate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ieee_cis_timed"
MAPPING = ROOT / "configs" / "mappings" / "ieee_cis_timed.yaml"
NAME = "ieee-cis-timed"
MATURITY_HOURS = 2.0
HOUR_MS = 3_600_000
METHODS = ["hybrid", "gnn", "gbt", "gbt_neighbours", "gbt_context", "component_score",
           "best_single_feature"]
CAP_DIR = ROOT / ".fraudring" / "experiments" / "ieee_timed_rows"


def capped(rows: int | None, data_dir: Path = DATA, out: Path = CAP_DIR) -> Path:
    """``data_dir`` itself, or a copy of its first ``rows`` transactions (and their identity
    rows) under ``out`` — the file is in time order, so a cap keeps the earliest hours."""
    if not rows:
        return data_dir
    return first_rows(data_dir, out / f"rows{rows}", rows, "csv")


def dated_ieee(tables: dict[str, pd.DataFrame], maturity_ms: int
               ) -> dict[str, pd.DataFrame]:
    """Dated labels of the mapped tables: orders and cards (see the module docstring).

    Returns ``{label: frame[observed, labeled_at, truth]}`` as
    :func:`graphgnn.model.targets.dated_labels` does, with the dates filled in.
    """
    from graph_build.errors import FraudringError
    from graphgnn.model import targets as labels

    dated = labels.dated_labels(None, tables)
    if "Order" not in dated:
        raise FraudringError("the mapping produced no order labels",
                             hint="its labels table needs rows with entity 'order'")
    orders = tables["orders"].assign(order_id=lambda f: f["order_id"].astype(str))
    when = pd.to_numeric(orders.set_index("order_id")["created_at"], errors="coerce")
    d = dated["Order"].copy()
    d["labeled_at"] = when.reindex(d.index).to_numpy(np.float64) + maturity_ms
    d["truth"] = d["observed"]
    frame = orders.assign(y=d["observed"].reindex(orders["order_id"]).to_numpy(),
                          t=when.reindex(orders["order_id"]).to_numpy())
    users = pd.Index(tables["users"]["user_id"].astype(str).unique())
    fraud = frame[frame["y"] == 1].groupby(frame["user_id"].astype(str))["t"].min()
    truth = pd.Series(0.0, index=users)
    truth[fraud.index.intersection(users)] = 1.0
    u = pd.DataFrame({"observed": np.where(truth == 1, 1.0, np.nan),
                      "labeled_at": fraud.reindex(users).to_numpy(np.float64) + maturity_ms,
                      "truth": truth.to_numpy()}, index=users)
    return {"Order": d, "User": u}


def prepare_timed(data_dir: Path = DATA, mapping: Path = MAPPING, name: str = NAME,
                  maturity_hours: float = MATURITY_HOURS):
    """The slice as :class:`experiments.data.Prepared` for orders and for users (cards)."""
    from graph_build.build import check_input
    from graph_build.to_graph import tables_to_frames

    from experiments.data import Prepared, retarget, stack
    from graphgnn.model import prepare as pipeline

    t0 = time.perf_counter()
    result, _ = check_input(Path(data_dir), mapping)
    frames = tables_to_frames(result.tables)
    maturity_ms = int(maturity_hours * HOUR_MS)
    dated = dated_ieee(result.tables, maturity_ms)
    pg = pipeline.prepare_graph(frames, dated, "temporal", 0.2, 0.2, 0,
                                maturity_days=maturity_hours / 24)
    st = stack(pg, "Order")
    blank = np.full(len(st["keys"]), "")
    order = Prepared(name=name, target="Order", pg=pg, x=st["x"], x_base=st["x_base"],
                     y=st["y"].astype(np.float64), train=st["stage"] == "train",
                     val=st["stage"] == "val", test=st["stage"] == "test", stage=st["stage"],
                     rows=st["rows"], keys=st["keys"], row_time=st["time"],
                     tables=result.tables, fraud_type=blank, ring_type=blank)
    order.y[order.y < 0] = np.nan
    user = retarget(order, "User")
    order.seconds = user.seconds = time.perf_counter() - t0
    return order, user


def describe(p) -> str:
    """One line: examples and positives per stage."""
    parts = []
    for s in ("train", "val", "test"):
        m = getattr(p, s)
        parts.append(f"{s} {int(m.sum()):,} ({int(np.nansum(p.y[m])):,} fraud)")
    return f"{p.name} {p.target}: " + ", ".join(parts)


def run_timed(seeds: list[int], methods: list[str] | None = None, rows: int | None = None,
              out: Path = QUALITY_CSV, data_dir: Path = DATA, name: str = NAME,
              pr: bool = True, cap_dir: Path = CAP_DIR) -> tuple[list[dict], list[dict]]:
    """Prepare the slice and evaluate ``methods`` on orders and users: the rows of
    ``quality.csv`` (merged into ``out``) and paired-bootstrap CI rows of (product - best
    baseline) AUPRC (:func:`experiments.quality.bootstrap_rows`; printed, not merged into
    ``quality_ci.csv``, whose rows are keyed by target alone)."""
    from experiments.baselines import METHODS as ALL

    chosen = tuple(m for m in ALL if m.name in (methods or METHODS)
                   and (m.setting == "supervised" or m.name == "component_score"))
    order, user = prepare_timed(capped(rows, data_dir, cap_dir), name=name)
    t1, t2 = order.meta["t1"], order.meta["t2"]
    print(f"{name}: T1 {pd.to_datetime(t1, unit='ms')}, T2 {pd.to_datetime(t2, unit='ms')}, "
          f"end {pd.to_datetime(order.meta['as_of'], unit='ms')}; label maturity "
          f"{MATURITY_HOURS:g} h; prepared in {order.seconds:.1f}s", file=sys.stderr)
    rows_out: list[dict] = []
    scores: dict = {}
    y_of: dict = {}
    for p in (order, user):
        print(describe(p), file=sys.stderr)
        if not p.test.any() or np.nansum(p.y[p.test]) == 0:
            print(f"  {p.target}: no test positives, skipped", file=sys.stderr)
            continue
        png = RESULTS / f"ieee_timed_pr_{p.target}.png" if pr else None
        y_of[(p.name, p.target)] = np.nan_to_num(p.y[p.test]).astype(int)
        rows_out += evaluate(p, chosen, seeds, False, png, out, scores)
    return rows_out, bootstrap_rows(scores, y_of)


def table(rows: list[dict]) -> str:
    """Mean (min-max over seeds) of the main metrics per target and method, as markdown."""
    cols = ("auprc", "auroc", "recall_at_k", "recall_at_1fpr")
    by: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        by.setdefault((r["target"], f"{r['method']} ({r['setting'][:5]})"), []).append(r)
    lines = ["| target | method | seeds | AUPRC | AUROC | Rec@K | recall at 1% FPR |",
             "|---|---|---|---|---|---|---|"]
    for (target, method), rs in by.items():
        cells = []
        for c in cols:
            v = np.array([float(r[c]) for r in rs if r.get(c) not in ("", None)])
            cells.append("" if not len(v) else f"{v.mean():.3f}" if len(v) == 1
                         else f"{v.mean():.3f} ({v.min():.3f}-{v.max():.3f})")
        lines.append(f"| {target} | {method} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ci_table(ci: list[dict]) -> str:
    """Markdown: the paired-bootstrap CI rows."""
    lines = ["| target | product | best baseline | runs | AUPRC diff | 95% CI |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['target']} | {r['product']} | {r['baseline']} | {r['pairs']} | "
              f"{r['diff']} | [{r['ci_low']}, {r['ci_high']}] |" for r in ci]
    return "\n".join(lines)
