"""S-FFSD on its published protocol, through the product's mapping and pipeline.

Protocol (AI4Risk/antifraud): labelled transactions only (Labels 0/1; the unlabelled rows stay
in the graph but out of every loss and metric), stratified random split 40 % train / 60 % test
with ``random_state=2``; here 10 % of all labelled rows (a quarter of the training part) are
held out of training for early stopping. Mapping: ``configs/mappings/s_ffsd.yaml`` (Source ->
user, Target -> product, Location -> address, Type -> payment method, each row an order).
Order features are point in time (each transaction sees only earlier ones); the label-aware
ones read training-row labels of earlier transactions only.

Published rows (their README, same protocol): RGTAN AUC 0.846 / AP 0.694. The issue's outside
measurement of trees with point-in-time per-entity aggregates: AUC 0.926 / AP 0.785 — printed
as references, not recomputed here.

    python -m experiments.sffsd [--seeds 0 1 2] [--methods hybrid gbt_context ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from experiments.quality import QUALITY_CSV, RESULTS, evaluate

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "s_ffsd"
MAPPING = ROOT / "configs" / "mappings" / "s_ffsd.yaml"
PUBLISHED = {"RGTAN (published)": (0.846, 0.694),
             "trees + PIT aggregates (issue, outside measure)": (0.926, 0.785)}
DEFAULT_METHODS = ["hybrid", "gbt_context", "gbt", "gbt_neighbours", "gnn",
                   "best_single_feature"]


def prepare_sffsd():
    """The prepared S-FFSD orders (40/60 stratified, random_state=2)."""
    from experiments.data import prepare

    return prepare(DATA, MAPPING, name="s-ffsd", split="random", val_frac=0.1, test_frac=0.6,
                   seed=2, maturity_days=0.0, target="Order")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.sffsd")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--methods", nargs="+", default=DEFAULT_METHODS)
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"S-FFSD not found at {DATA}: skipped", file=sys.stderr)
        return 0
    from experiments.baselines import METHODS

    p = prepare_sffsd()
    print(f"s-ffsd: {int(p.train.sum()):,} train, {int(p.val.sum()):,} val, "
          f"{int(p.test.sum()):,} test rows ({int(p.y[p.test].sum()):,} fraud); prepared in "
          f"{p.seconds:.1f}s", file=sys.stderr)
    chosen = tuple(m for m in METHODS if m.name in args.methods)
    rows = evaluate(p, chosen, args.seeds, False, RESULTS / "pr_s-ffsd.png", QUALITY_CSV)
    print(f"{'method':<48} {'AUC':>6} {'AP':>6}")
    for name, (auc, ap_) in PUBLISHED.items():
        print(f"{name:<48} {auc:>6.3f} {ap_:>6.3f}")
    by: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        by.setdefault(f"{r['method']} ({r['setting']})", []).append(
            (float(r["auroc"]), float(r["auprc"])))
    for name, vals in by.items():
        auc = sum(v[0] for v in vals) / len(vals)
        ap_ = sum(v[1] for v in vals) / len(vals)
        print(f"{name:<48} {auc:>6.3f} {ap_:>6.3f}  ({len(vals)} seeds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
