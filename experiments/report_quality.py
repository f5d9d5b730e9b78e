"""The quality sections of ``experiments/README.md``, every number read from the result CSVs.

- headline: per dataset family and target, the product's best supervised method against the
  best baseline, with the paired bootstrap CI (``quality_ci.csv``) and the sanity rows;
- one table per (family, target): every method, mean ± std over generator × training seeds,
  the label-free component score and the best single feature as sanity rows (a table where
  either exceeds 0.9 AUPRC is flagged saturated);
- per fraud type (``quality_types.csv``); S-FFSD beside its published rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"
PRODUCT = ("hybrid", "gnn")
SANITY = ("component_score", "best_single_feature")
ABLATION = ("gbt_context",)
SATURATED = 0.9
TARGET_MARGIN = 0.05
COLS = [("auprc", "AUPRC"), ("auroc", "AUROC"), ("recall_at_k", "R@K"),
        ("precision_at_0.1pct", "P@0.1%"), ("recall_at_0.1pct", "R@0.1%"),
        ("precision_at_0.5pct", "P@0.5%"), ("recall_at_0.5pct", "R@0.5%"),
        ("precision_at_1pct", "P@1%"), ("recall_at_1pct", "R@1%"),
        ("recall_at_1fpr", "R@1%FPR"), ("ring_f1", "ring F1")]
PUBLISHED_SFFSD = [("RGTAN (published, AI4Risk/antifraud)", 0.846, 0.694),
                   ("trees + PIT aggregates (issue 10, measured outside the project)",
                    0.926, 0.785)]


def family(dataset: str) -> str:
    """``hard-50k-g101`` -> ``hard-50k``; other names unchanged."""
    return re.sub(r"-g\d+$", "", dataset)


def load(path: Path = RESULTS / "quality.csv") -> pd.DataFrame:
    q = pd.read_csv(path)
    q["family"] = q["dataset"].map(family)
    return q


def summary(q: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and run count per (family, target, setting, method)."""
    cols = [c for c, _ in COLS if c in q] + ["ring_precision", "ring_recall", "seconds"]
    cols = [c for c in cols if c in q]
    g = q.groupby(["family", "target", "setting", "method"])[cols]
    out = g.mean().join(g.std(), rsuffix="_std").join(g.size().rename("runs"))
    return out.reset_index()


def _pm(mean: float, std: float) -> str:
    if not np.isfinite(mean):
        return "–"
    return f"{mean:.3f}" if not np.isfinite(std) or std == 0 else f"{mean:.3f} ± {std:.3f}"


def _name(method: str) -> str:
    if method in PRODUCT:
        return f"**{method}**"
    if method in SANITY:
        return f"_{method}_ (sanity)"
    return method


def table(s: pd.DataFrame, fam: str, target: str) -> str:
    rows = s[(s["family"] == fam) & (s["target"] == target)]
    rows = rows.sort_values(["setting", "auprc"], ascending=[True, False])
    cols = [(c, h) for c, h in COLS if c in rows and rows[c].notna().any()]
    head = ["setting", "method", "runs", *[h for _, h in cols], "seconds"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in rows.iterrows():
        cells = [r["setting"], _name(r["method"]), str(int(r["runs"]))]
        cells += [_pm(r[c], r.get(f"{c}_std", np.nan)) for c, _ in cols]
        cells.append(f"{r['seconds']:.1f}")
        out.append("| " + " | ".join(cells) + " |")
    sanity = rows[rows["method"].isin(SANITY)]["auprc"]
    if len(sanity) and float(sanity.max()) > SATURATED:
        out += ["", f"**Saturated**: a sanity row reaches AUPRC {float(sanity.max()):.3f} "
                f"(> {SATURATED}): this benchmark is separable without learning."]
    return "\n".join(out)


def headline(s: pd.DataFrame, ci: pd.DataFrame | None) -> str:
    head = ["dataset", "target", "product (best)", "AUPRC", "best baseline", "AUPRC",
            "margin", "95 % CI (paired bootstrap)", "target ≥ +0.05, CI > 0",
            "component score", "best single feature"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (fam, target), g in s[s["setting"] == "supervised"].groupby(["family", "target"]):
        prod = g[g["method"].isin(PRODUCT)].sort_values("auprc", ascending=False)
        base = g[~g["method"].isin(PRODUCT + SANITY + ABLATION)].sort_values(
            "auprc", ascending=False)
        if not len(prod) or not len(base):
            continue
        p, b = prod.iloc[0], base.iloc[0]
        margin = p["auprc"] - b["auprc"]
        ci_txt, met = "–", margin >= TARGET_MARGIN
        if ci is not None and len(ci):
            r = ci[(ci["target"] == target) & (ci["product"] == p["method"])]
            if len(r):
                lo, hi = float(r["ci_low"].iloc[0]), float(r["ci_high"].iloc[0])
                ci_txt = f"[{lo:+.3f}, {hi:+.3f}] vs {r['baseline'].iloc[0]}"
                met = met and lo > 0
        all_rows = s[(s["family"] == fam) & (s["target"] == target)]
        san = {m: all_rows[all_rows["method"] == m]["auprc"] for m in SANITY}
        san_txt = [f"{float(v.iloc[0]):.3f}" if len(v) else "–" for v in san.values()]
        out.append("| " + " | ".join([
            fam, target, p["method"], _pm(p["auprc"], p.get("auprc_std", np.nan)), b["method"],
            _pm(b["auprc"], b.get("auprc_std", np.nan)), f"{margin:+.3f}", ci_txt,
            "met" if met else "**not met**", *san_txt]) + " |")
    return "\n".join(out)


def types_table(path: Path = RESULTS / "quality_types.csv", methods=("hybrid", "gnn",
                "gbt_neighbours", "component_score")) -> str:
    if not path.exists():
        return "_(no per-type rows yet)_"
    t = pd.read_csv(path)
    t["family"] = t["dataset"].map(family)
    t = t[t["method"].isin(methods) & (t["setting"] == "supervised")
          | (t["method"] == "component_score")]
    g = t.groupby(["family", "target", "fraud_type", "method"]).agg(
        auprc=("auprc", "mean"), recall=("recall_at_1pct", "mean"),
        positives=("positives", "mean")).reset_index()
    out = ["| dataset | target | fraud type | test positives (mean) | "
           + " | ".join(f"{m} AUPRC / R@1%" for m in methods) + " |",
           "|" + "---|" * (4 + len(methods))]
    for (fam, target, ft), grp in g.groupby(["family", "target", "fraud_type"]):
        cells = [fam, target, ft, f"{grp['positives'].mean():.0f}"]
        for m in methods:
            r = grp[grp["method"] == m]
            cells.append(f"{r['auprc'].iloc[0]:.3f} / {r['recall'].iloc[0]:.3f}" if len(r)
                         else "–")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def sffsd_table(q: pd.DataFrame) -> str:
    rows = q[q["dataset"] == "s-ffsd"]
    out = ["| method | runs | AUC | AP | R@1%FPR |", "|---|---|---|---|---|"]
    for name, auc, ap in PUBLISHED_SFFSD:
        out.append(f"| {name} | – | {auc:.3f} | {ap:.3f} | – |")
    g = rows.groupby(["method", "setting"])
    for (m, st), grp in sorted(g, key=lambda kv: -kv[1]["auprc"].mean()):
        auc, ap = _pm(grp["auroc"].mean(), grp["auroc"].std()), _pm(grp["auprc"].mean(),
                                                                 grp["auprc"].std())
        out.append(f"| {_name(m)} ({st}) | {len(grp)} | {auc} | {ap} | "
                   f"{grp['recall_at_1fpr'].mean():.3f} |")
    return "\n".join(out)


def sections() -> list[str]:
    """Markdown blocks of the quality part of the report."""
    path = RESULTS / "quality.csv"
    if not path.exists():
        return ["_No quality.csv yet: run `python -m experiments quality`._", ""]
    q = load(path)
    synth = q[~q["dataset"].isin(["s-ffsd", "ieee-cis-timed"])]
    s = summary(synth) if len(synth) else None
    ci_path = RESULTS / "quality_ci.csv"
    ci = pd.read_csv(ci_path) if ci_path.exists() else None
    parts = []
    if s is not None and len(s):
        parts += ["## Headline (hard mode)", "", headline(s, ci), ""]
        for (fam, target), _ in s.groupby(["family", "target"]):
            n_ds = synth[synth["family"] == fam]["dataset"].nunique()
            seeds = sorted(synth[synth["family"] == fam]["seed"].unique().tolist())
            pos = synth[(synth["family"] == fam) & (synth["target"] == target)]
            parts += [f"## {fam}: {target}", "", f"{n_ds} generated graph(s), training seeds "
                      f"{seeds}; mean ± std over all runs; test examples only.", "",
                      table(s, fam, target), ""]
            del pos
        parts += ["## Per fraud type (test positives of one type against every legit example)",
                  "", types_table(), ""]
    if (q["dataset"] == "s-ffsd").any():
        parts += ["## S-FFSD on its published protocol", "", sffsd_table(q), ""]
    return parts
