"""``experiments/README.md`` from the result files: every number comes from a CSV.

Reads ``results/quality.csv`` (mean ± std over generator and training seeds, per dataset family:
``synthetic-20k-g101`` and ``synthetic-20k-g102`` are both ``synthetic-20k``), ``results/perf.csv``
and ``results/scale.csv``, links the PNGs present, and words the reading from the numbers (which
method leads, by how much, whether the targets hold).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
METRICS = ("auprc", "auroc", "recall_at_k", "precision_at_100", "ring_recall")
HEADERS = {"auprc": "AUPRC", "auroc": "AUROC", "recall_at_k": "Recall@K",
           "precision_at_100": "P@100", "ring_recall": "ring recall", "seconds": "seconds"}
TARGET_MARGIN = 0.05


def family(dataset: str) -> str:
    """``synthetic-20k-g101`` -> ``synthetic-20k``; other names unchanged."""
    return re.sub(r"-g\d+$", "", dataset)


def load_quality(path: Path = RESULTS / "quality.csv") -> pd.DataFrame:
    q = pd.read_csv(path)
    q["family"] = q["dataset"].map(family)
    return q


def summary(q: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and run count per (family, setting, method)."""
    cols = [*METRICS, "seconds"]
    g = q.groupby(["family", "setting", "method"])[cols]
    out = g.mean().join(g.std(), rsuffix="_std").join(g.size().rename("runs"))
    return out.reset_index()


def _pm(mean: float, std: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return "–"
    if not np.isfinite(std) or std == 0:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def quality_table(s: pd.DataFrame, fam: str) -> str:
    rows = s[s["family"] == fam].sort_values(["setting", "auprc"], ascending=[True, False])
    head = ["setting", "method", "runs", *[HEADERS[m] for m in METRICS], "seconds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in rows.iterrows():
        name = f"**{r['method']}**" if r["method"] == "gnn" else r["method"]
        cells = [r["setting"], name, str(int(r["runs"]))]
        cells += [_pm(r[m], r[f"{m}_std"]) for m in METRICS]
        cells.append(f"{r['seconds']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def headline(s: pd.DataFrame) -> list[dict]:
    """Per family: GNN vs best supervised baseline, unsupervised GNN vs IsolationForest."""
    out = []
    for fam in sorted(s["family"].unique()):
        f = s[s["family"] == fam].set_index(["setting", "method"])
        sup = f.loc["supervised"] if "supervised" in f.index.get_level_values(0) else None
        uns = f.loc["unsupervised"] if "unsupervised" in f.index.get_level_values(0) else None
        row: dict = {"family": fam}
        if sup is not None and "gnn" in sup.index:
            base = sup.drop(index="gnn")["auprc"].dropna()
            row["gnn"] = sup.loc["gnn", "auprc"]
            row["gnn_std"] = sup.loc["gnn", "auprc_std"]
            if len(base):
                row["best"] = base.idxmax()
                row["best_auprc"] = base.max()
                row["best_std"] = sup.loc[base.idxmax(), "auprc_std"]
        if uns is not None and "gnn" in uns.index:
            row["ugnn"] = uns.loc["gnn", "auprc"]
            row["ugnn_std"] = uns.loc["gnn", "auprc_std"]
            if "isolation_forest" in uns.index:
                row["iforest"] = uns.loc["isolation_forest", "auprc"]
                row["iforest_std"] = uns.loc["isolation_forest", "auprc_std"]
            base = uns.drop(index="gnn")["auprc"].dropna()
            if len(base):
                row["ubest"], row["ubest_auprc"] = base.idxmax(), base.max()
        out.append(row)
    return out


def headline_table(h: list[dict]) -> str:
    lines = ["| dataset | GNN (sup.) AUPRC | best supervised baseline | its AUPRC | margin | "
             "target ≥ +0.05 | GNN (unsup.) AUPRC | IsolationForest AUPRC | unsup. GNN > IF |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in h:
        margin = r.get("gnn", np.nan) - r.get("best_auprc", np.nan)
        umargin = r.get("ugnn", np.nan) - r.get("iforest", np.nan)
        lines.append("| " + " | ".join([
            r["family"], _pm(r.get("gnn", np.nan), r.get("gnn_std", np.nan)),
            str(r.get("best", "–")), _pm(r.get("best_auprc", np.nan), r.get("best_std", np.nan)),
            f"{margin:+.3f}" if np.isfinite(margin) else "–",
            ("met" if margin >= TARGET_MARGIN else "**not met**") if np.isfinite(margin) else "–",
            _pm(r.get("ugnn", np.nan), r.get("ugnn_std", np.nan)),
            _pm(r.get("iforest", np.nan), r.get("iforest_std", np.nan)),
            ("yes" if umargin > 0 else "**no**") if np.isfinite(umargin) else "–"]) + " |")
    return "\n".join(lines)


def reading(h: list[dict], s: pd.DataFrame) -> str:
    """The honest reading, worded from the numbers."""
    out = []
    for r in h:
        fam = r["family"]
        if "gnn" not in r or "best" not in r:
            continue
        margin = r["gnn"] - r["best_auprc"]
        f = s[(s["family"] == fam) & (s["setting"] == "supervised")].set_index("method")
        if margin >= TARGET_MARGIN:
            verdict = (f"the supervised GNN leads the best baseline ({r['best']}) by "
                       f"{margin:+.3f} AUPRC: the target is met")
        elif margin > 0:
            verdict = (f"the supervised GNN leads the best baseline ({r['best']}) by only "
                       f"{margin:+.3f} AUPRC: ahead, but short of the +0.05 target")
        else:
            verdict = (f"the best baseline ({r['best']}) matches or beats the supervised GNN "
                       f"({margin:+.3f} AUPRC): the target is **not** met")
        parts = [f"- **{fam}**: {verdict}."]
        if "gbt" in f.index and "gbt_neighbours" in f.index:
            d = f.loc["gbt_neighbours", "auprc"] - f.loc["gbt", "auprc"]
            parts.append(f"Neighbour aggregates change the trees' AUPRC by {d:+.3f}")
            parts.append(f"(trees + neighbours vs GNN: "
                         f"{f.loc['gbt_neighbours', 'auprc'] - r['gnn']:+.3f}).")
        seq = [m for m in ("cnn1d_seq", "cnn_rnn_hybrid", "mlp") if m in f.index]
        if seq:
            parts.append("Seed methods (sequence CNN, CNN+RNN, MLP) reach AUPRC " + ", ".join(
                f"{m} {f.loc[m, 'auprc']:.3f}" for m in seq) + ".")
        if "ugnn" in r and "iforest" in r:
            um = r["ugnn"] - r["iforest"]
            parts.append(f"Unsupervised: GNN {r['ugnn']:.3f} vs IsolationForest "
                         f"{r['iforest']:.3f} ({um:+.3f}); best unsupervised baseline: "
                         f"{r.get('ubest', '–')} ({r.get('ubest_auprc', np.nan):.3f}).")
        if "ring_recall" in f.columns and "gnn" in f.index and np.isfinite(
                f.loc["gnn", "ring_recall"]):
            best_rr = f["ring_recall"].drop(index="gnn").max()
            parts.append(f"Ring recall: GNN {f.loc['gnn', 'ring_recall']:.2f}, best supervised "
                         f"baseline {best_rr:.2f}.")
        out.append(" ".join(parts))
    return "\n".join(out)


def perf_section() -> str:
    path = RESULTS / "perf.csv"
    if not path.exists():
        return "_No perf.csv yet: run `python -m experiments perf`._"
    p = pd.read_csv(path, dtype=str).fillna("")
    lines = ["| benchmark | ours | reference | ratio | unit | machine |",
             "|---|---|---|---|---|---|"]
    for _, r in p.iterrows():
        lines.append("| " + " | ".join(r[c] for c in ("benchmark", "ours", "reference", "ratio",
                                                       "unit", "machine")) + " |")
    return "\n".join(lines)


def _cell(r, col: str, fmt: str = "{:.1f}") -> str:
    v = r.get(col)
    return "–" if v is None or pd.isna(v) else fmt.format(v)


def scale_section() -> str:
    path = RESULTS / "scale.csv"
    if not path.exists():
        return "_No scale.csv yet: run `python -m experiments perf`._"
    sc = pd.read_csv(path).sort_values("users")
    lines = ["| users | nodes | relationships | build s | build RSS MiB (client / server) | "
             "features s | mini-batch epoch s | full-batch epoch s | features + epoch RSS MiB "
             "(mini / full) | scoring run s (export / forward / write-back) | scoring RSS MiB "
             "(client / server) | µs per relationship (build / epoch / scoring) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in sc.iterrows():
        e = max(float(r["edges"]), 1.0)
        lines.append(
            f"| {int(r['users']):,} | {int(r['nodes']):,} | {int(r['edges']):,} | "
            f"{r['build_s']:.1f} | {r['build_rss_mib']:.0f} / {r['server_rss_mib']:.0f} | "
            f"{r['prepare_s']:.1f} | {r['epoch_s']:.1f} | {_cell(r, 'epoch_full_s')} | "
            f"{r['model_rss_mib']:.0f} / {_cell(r, 'full_rss_mib', '{:.0f}')} | "
            f"{r['score_s']:.1f} ({_cell(r, 'score_export_s')} / "
            f"{_cell(r, 'score_forward_s')} / {_cell(r, 'score_write_s')}) | "
            f"{_cell(r, 'score_rss_mib', '{:.0f}')} / "
            f"{_cell(r, 'score_server_rss_mib', '{:.0f}')} | {1e6 * r['build_s'] / e:.1f} / "
            f"{1e6 * r['epoch_s'] / e:.1f} / {1e6 * r['score_s'] / e:.1f} |")
    text = "\n".join(lines)
    if len(sc) >= 2:
        steps = []
        for (_, a), (_, b) in zip(sc.iloc[:-1].iterrows(), sc.iloc[1:].iterrows(), strict=True):
            steps.append(
                f"{int(a['users']):,} → {int(b['users']):,} users: relationships "
                f"×{b['edges'] / a['edges']:.1f}; build ×{b['build_s'] / a['build_s']:.1f}, "
                f"features ×{b['prepare_s'] / a['prepare_s']:.1f}, mini-batch epoch "
                f"×{b['epoch_s'] / a['epoch_s']:.1f}, scoring run "
                f"×{b['score_s'] / a['score_s']:.1f}, scoring client RSS "
                f"×{b['score_rss_mib'] / a['score_rss_mib']:.1f}")
        text += ("\n\nGrowth between measured sizes (linear would be the factor of the "
                 "relationships):\n\n" + "\n".join(f"- {x}" for x in steps) +
                 "\n\nThe full-batch epoch is measured only up to 100k users: its activations "
                 "grow with the whole graph, so large graphs train on sampled subgraphs "
                 "(`configs/large.yaml`). Timings come from a shared 2-core machine with other "
                 "experiments running; small sizes carry fixed start-up costs.")
        if sc["users"].max() < 1_000_000:
            text += (" The 1M-user point was not measured in this run "
                     "(`python -m experiments perf` without `--quick` does it).")
    return text


def _images(prefix: str) -> str:
    pngs = sorted(RESULTS.glob(f"{prefix}*.png"))
    return "\n\n".join(f"![{p.stem}](results/{p.name})" for p in pngs) or "_(none yet)_"


STATIC_NOTES = """\
## Method

- **Same data for everyone.** `experiments/data.py` runs the GNN's own pipeline once
  (`graphgnn.model.features.build_features` → labels → `hetero.build_hetero` → `make_masks`
  (temporal) → `fit_normaliser`), and every method reads it: the tabular baselines use the User
  rows of that FeatureSet (z-scored with training-period statistics), the GNN gets the same
  HeteroData through `DataModule.from_frames`. Sequence baselines read the `events` table up to
  the same cut time T.
- **Temporal split.** Users are ordered by first activity: train = known by T1 (60 %),
  validation = (T1, T2] (20 %), test = after T2 (20 %). Supervised methods fit on train and select
  on validation (early stopping); unsupervised ones fit on training-period nodes and read no
  labels. All metrics are on the test users only.
- **Metrics.** AUPRC (average precision), AUROC, Recall@K with K = number of test positives,
  Precision@100, and ring recall: share of planted rings with ≥ 3 members among the test users
  of which ≥ 50 % fall in one detected group. Groups come from the product's ring detector
  (`graphgnn.scores.rings.detect_rings`: components of the flagged users over shared devices, IPs,
  addresses, cards; hub entities ignored) applied to each method's top-K test users, so methods
  differ only in whom they flag.
- **Seeds.** Generator seeds 101, 102, 103 (never used in development, which used 0–42);
  training seeds 0, 1, 2 (full mode); `--quick`: 5k users, generator seed 101, training seed 0.
  ± is the standard deviation over all runs of a dataset family.
- **Methods.** Supervised: `gnn` (graphgnn `System`, objective `supervised`,
  `configs/default.yaml` model settings; full batch below 50k users, and on larger graphs
  time-respecting sampled subgraphs with the data, epoch and patience settings of
  `configs/large.yaml`, as the product trains them; the unsupervised GNN then runs 5 epochs),
  `gbt` (HistGradientBoosting on own features),
  `gbt_neighbours` (+ mean/max over devices, IPs, orders and co-users — GADBench style),
  `mlp`, `cnn1d_seq` (1-D CNN over event types), `cnn_rnn_hybrid` (CNN+GRU over events +
  tabular). Unsupervised: `gnn` (objective `unsupervised`: feature + edge reconstruction),
  `isolation_forest`, `lof`, `autoencoder` (reconstruction error), `lstm_iforest` / `lstm_lof`
  (self-supervised LSTM embeddings of event sequences → IsolationForest / LOF),
  `graph_heuristic` (components over shared identifiers + degree, as in Neo4j's fraud guides).

## IEEE-CIS subset: what it can and cannot show

The subset (5,000 transactions) is mapped by `configs/mappings/ieee_cis.yaml`: a card stands in
for the customer, `addr1` for the address, `DeviceInfo` (≈ 1 in 5 rows) for the device; labels
are per transaction (order), so evaluation is on Order nodes and user-level methods (sequences,
the sharing heuristic, ring recall) are skipped. It **can** show that the pipeline runs on real,
messy data end to end and how the methods rank real fraudulent transactions. It **cannot** show
ring detection (no ring truth), its time axis is synthetic (TransactionID order stands in for
time), the graph is thin (few shared devices), and with ~5k rows and a few hundred positives the
test split's AUPRC has a wide confidence band — treat differences below ~0.05 as noise.
"""


def write_report(path: Path = README) -> Path:
    """Write ``experiments/README.md`` from the result files; returns its path."""
    parts = ["# Experiments: does the GNN find what simpler methods miss?", "",
             "_Generated by `python -m experiments report` from `results/quality.csv`, "
             "`results/perf.csv` and `results/scale.csv`; do not edit by hand._", "",
             "Regenerate everything: `python -m experiments all` (hours on 2 CPU cores) or "
             "`python -m experiments all --quick` (minutes). Parts: `quality`, `perf`, `report`.",
             ""]
    qpath = RESULTS / "quality.csv"
    if qpath.exists():
        q = load_quality(qpath)
        s = summary(q)
        h = headline(s)
        parts += ["## Headline", "", headline_table(h), "", "### Reading", "", reading(h, s), "",
                  WHY, ""]
        for fam in sorted(s["family"].unique()):
            n_ds = q[q["family"] == fam]["dataset"].nunique()
            seeds = sorted(q[q["family"] == fam]["seed"].unique().tolist())
            parts += [f"## {fam}", "", f"{n_ds} dataset(s), training seeds {seeds}; "
                      "mean ± std over all runs; test split only.", "",
                      quality_table(s, fam), ""]
        parts += ["## Precision-recall curves (first training seed)", "", _images("pr_"), ""]
    else:
        parts += ["_No quality.csv yet: run `python -m experiments quality`._", ""]
    status = RESULTS / "ieee_status.txt"
    if status.exists():
        parts += ["## IEEE-CIS subset", "", "**" + status.read_text().strip() + "**", ""]
    parts += ["## Scale", "", scale_section(), "", _images("scale"), "",
              "## All performance rows (`results/perf.csv`)", "", perf_section(), "",
              STATIC_NOTES]
    path.write_text("\n".join(parts))
    return path


WHY = """\
Likely reasons (hypotheses from how the features and the generator are built; these runs do not
test them one by one):

- The point-in-time features already carry much of the relational signal — per user, how many
  users share its devices/IPs/addresses/cards, co-arrivals within 24 h, first-seen ages of
  devices and IPs — so a tree on "own" features is not blind to the graph, and trees with
  neighbour aggregates see one more hop explicitly. The GNN's extra reach (several hops, learned
  weights per relationship type) has little left to add when one hop of hand-made aggregates
  already separates the classes.
- Sequence-only seed methods see one user's events in isolation and none of the sharing.
- Unsupervised scores rank *unusual* users, while the generator builds fraudsters to look usual
  on their own attributes; structure reconstruction helps only as far as ring members' links are
  rarer than legitimate ones (households, offices and NAT IPs share too).
- Small test sets: with a few dozen positives in a test split, one user moves AUPRC by ~0.01–0.03;
  read differences below that as noise, and Precision@100 cannot exceed positives / 100.
- Timings (`seconds`) are wall-clock on a shared 2-core machine with other jobs running; compare
  them only within one run.

What would change the supervised verdict (next steps, not done here): a generator setting where
the one-hop aggregates stop separating (rings that rotate devices/IPs, longer chains through
cards and addresses, more look-alike sharing), a tuned GNN (width, depth, `jk`, epochs, the
`semi` objective), temporal mini-batch training on the larger graphs, and giving the GNN the
same explicit neighbour aggregates as input features (the GADBench finding is that trees with
these aggregates are as strong as most GNNs on tabular-rich graphs)."""
