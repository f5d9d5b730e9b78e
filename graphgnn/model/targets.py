"""Training and evaluation labels: ground truth files, a labels table, investigator verdicts.

Sources, later ones overriding earlier ones for the same node:

1. ``truth/users.csv`` and ``truth/orders.csv`` of a generated data folder
   (``user_id|order_id, is_fraud, ring_id, …``);
2. the optional canonical ``labels`` table of a data folder (``entity, id, is_fraud,
   labeled_at``; rows labelled after T are ignored);
3. ``verdict`` properties in the store (``'fraud'``/``'legit'`` on User and Order), read with
   ``cypher/export/verdicts.cypher`` — what investigators decided wins.

Device and IP have no labels of their own; :func:`align_labels` derives them from their users
(a device or IP is fraudulent when most of the labelled users seen on it by T are).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from graph_build import cypher, schema
from graph_build.errors import FraudringError
from graph_build.stores.base import GraphStore
from graphgnn.model.features import FeatureSet, _edges

LABELLED = ("User", "Order")
DERIVED = {"Device": "USED_DEVICE", "IP": "USED_IP"}
Labels = dict[str, pd.Series]  # label -> float Series (1.0 fraud, 0.0 legit) indexed by key


def _bool(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    mapped = text.map({"1": 1.0, "true": 1.0, "yes": 1.0, "fraud": 1.0,
                       "0": 0.0, "false": 0.0, "no": 0.0, "legit": 0.0})
    return mapped.astype("float64")


def truth_labels(data_dir: str | Path, as_of: int | None = None) -> Labels:
    """Labels from a data folder: ``truth/*.csv`` and the ``labels`` table, when present.

    Args:
        data_dir: a folder written by ``fraudring generate`` or holding a ``labels`` table.
        as_of: ignore ``labels`` rows whose ``labeled_at`` is after this time (epoch ms).

    Raises:
        FraudringError: the folder has no labels at all.
    """
    root = Path(data_dir)
    out: Labels = {}
    for label, file in (("User", "users"), ("Order", "orders")):
        path = root / "truth" / f"{file}.csv"
        if path.is_file():
            key = schema.node(label).key
            frame = pd.read_csv(path, dtype={key: str, "is_fraud": str})
            out[label] = pd.Series(_bool(frame["is_fraud"]).to_numpy(),
                                   index=frame[key].astype(str), name=label)
    table = next((p for p in (root / "labels.csv", root / "labels.parquet") if p.is_file()), None)
    if table is not None:
        frame = (pd.read_parquet(table) if table.suffix == ".parquet"
                 else pd.read_csv(table, dtype=str))
        if as_of is not None and "labeled_at" in frame:
            when = pd.to_numeric(frame["labeled_at"], errors="coerce")
            frame = frame[when.isna() | (when <= as_of)]
        for entity, label in schema.LABELLED_ENTITIES.items():
            rows = frame[frame["entity"].astype(str).str.lower() == entity]
            if len(rows):
                add = pd.Series(_bool(rows["is_fraud"]).to_numpy(), index=rows["id"].astype(str))
                out[label] = _merge(out.get(label), add)
    if not out:
        raise FraudringError(f"no labels in {root}",
                             hint="expected truth/users.csv (from `fraudring generate`) or a "
                             "labels table; or use objective 'unsupervised'")
    return out


def store_verdicts(store: GraphStore) -> Labels:
    """Investigator verdicts from the store: ``verdict`` 'fraud' -> 1.0, 'legit' -> 0.0."""
    out: Labels = {}
    for label in LABELLED:
        rows = store.read(cypher.render("export/verdicts", label=label))
        if rows:
            frame = pd.DataFrame.from_records(rows)
            values = _bool(frame["verdict"])
            ok = values.notna().to_numpy()
            out[label] = pd.Series(values[ok].to_numpy(),
                                   index=frame["key"].astype(str)[ok], name=label)
    return out


def _merge(base: pd.Series | None, override: pd.Series) -> pd.Series:
    override = override[~override.index.duplicated(keep="last")]
    if base is None:
        return override
    return pd.concat([base[~base.index.isin(override.index)], override])


def merge_labels(*sources: Labels) -> Labels:
    """Combine label sources; later sources win for the same node."""
    out: Labels = {}
    for src in sources:
        for label, series in src.items():
            out[label] = _merge(out.get(label), series)
    return out


def align_labels(labels: Labels, fs: FeatureSet) -> dict[str, np.ndarray]:
    """Labels as arrays aligned with the feature rows; NaN where unknown.

    Args:
        labels: per label, a Series indexed by node key.
        fs: the features (their node order is used).

    Returns:
        ``{label: float32 [N_label]}`` for User, Order and the derived Device and IP.
    """
    out: dict[str, np.ndarray] = {}
    for label in LABELLED:
        keys = fs.frames.keys(label).astype(str)
        series = labels.get(label)
        if series is None:
            out[label] = np.full(len(keys), np.nan, np.float32)
            continue
        series = series[~series.index.duplicated(keep="last")]
        out[label] = series.reindex(keys.to_numpy()).to_numpy(np.float32)
    y_user = out["User"]
    for label, rel_type in DERIVED.items():
        s, d, _ = _edges(fs.frames, rel_type)
        n = fs.frames.node_count(label)
        known = ~np.isnan(y_user[s])
        fraud = np.bincount(d[known], weights=y_user[s][known], minlength=n)[:n]
        seen = np.bincount(d[known], minlength=n)[:n]
        y = np.where(seen > 0, (fraud / np.maximum(seen, 1) >= 0.5).astype(np.float32), np.nan)
        out[label] = y.astype(np.float32)
    return out


def load_labels(fs: FeatureSet, data_dir: str | Path | None = None,
                store: GraphStore | None = None) -> dict[str, np.ndarray]:
    """Every available label source, merged and aligned with ``fs`` (see module docstring)."""
    sources: list[Labels] = []
    if data_dir is not None:
        sources.append(truth_labels(data_dir, fs.as_of))
    if store is not None:
        sources.append(store_verdicts(store))
    return align_labels(merge_labels(*sources), fs)


# -- dated labels (what was known when) ----------------------------------------------------------
DATED_COLUMNS = ("observed", "labeled_at", "truth")


def _column(values, n: int) -> pd.Series:
    """A column of ``n`` rows from an array-like or a scalar (broadcast)."""
    if np.ndim(values) == 0:
        return pd.Series([values] * n, dtype="object")
    return pd.Series(np.asarray(values, dtype=object))


def _dated(keys: pd.Series, observed, labeled_at, truth=None) -> pd.DataFrame:
    n = len(keys)
    frame = pd.DataFrame({
        "observed": _bool(_column(observed, n).astype("string")).to_numpy(),
        "labeled_at": pd.to_numeric(_column(labeled_at, n), errors="coerce").to_numpy(),
        "truth": (np.full(len(keys), np.nan) if truth is None
                  else _bool(_column(truth, n).astype("string")).to_numpy())},
        index=pd.Index(keys.astype(str).to_numpy()))
    return frame[~frame.index.duplicated(keep="last")]


def _merge_dated(base: pd.DataFrame | None, add: pd.DataFrame) -> pd.DataFrame:
    """``add`` wins for its keys on observed/labeled_at; the truth column is kept from ``base``."""
    if base is None:
        return add
    out = base.copy()
    new = add.index.difference(out.index)
    out = pd.concat([out, pd.DataFrame(index=new, columns=list(DATED_COLUMNS), dtype=float)])
    out.loc[add.index, ["observed", "labeled_at"]] = add[["observed", "labeled_at"]].to_numpy()
    has_truth = add["truth"].notna()
    out.loc[add.index[has_truth], "truth"] = add.loc[has_truth, "truth"].to_numpy()
    return out


def dated_labels(data_dir: str | Path | None = None, tables: dict[str, pd.DataFrame] | None = None,
                 store: GraphStore | None = None) -> dict[str, pd.DataFrame]:
    """Every label source as ``{label: frame[observed, labeled_at, truth]}`` indexed by key.

    ``observed`` is what the shop was told (1 fraud, 0 legit, NaN no report) and ``labeled_at``
    when (epoch ms; NaN = known from the start); ``truth`` the true class where a generator
    wrote it (``truth/*.csv``'s ``is_fraud``) — evaluation only, never training. Sources, later
    ones winning for observed labels: ``truth/`` (``labeled_fraud``/``labeled_at`` when present,
    else ``is_fraud`` known at once), the ``labels`` table (of ``tables`` or of the folder),
    investigators' verdicts (``verdict_at`` when the store returns it).
    """
    out: dict[str, pd.DataFrame] = {}
    root = Path(data_dir) if data_dir is not None else None
    for label, file in (("User", "users"), ("Order", "orders")):
        path = root / "truth" / f"{file}.csv" if root is not None else None
        if path is not None and path.is_file():
            key = schema.node(label).key
            f = pd.read_csv(path, dtype={key: str})
            if "labeled_fraud" in f:
                reported = f["labeled_fraud"].astype(str).isin(["1", "True", "true"])
                obs = np.where(reported, "1", None)
                at = f.get("labeled_at", np.nan)
            else:
                obs, at = f["is_fraud"].astype(str), np.nan
            out[label] = _dated(f[key], obs, at, f["is_fraud"].astype(str))
    table = (tables or {}).get("labels")
    if table is None and root is not None:
        path = next((p for p in (root / "labels.csv", root / "labels.parquet") if p.is_file()),
                    None)
        if path is not None:
            table = (pd.read_parquet(path) if path.suffix == ".parquet"
                     else pd.read_csv(path, dtype=str))
    if table is not None and len(table):
        for entity, label in schema.LABELLED_ENTITIES.items():
            rows = table[table["entity"].astype(str).str.lower() == entity]
            if len(rows):
                at = rows.get("labeled_at", np.nan)
                out[label] = _merge_dated(out.get(label), _dated(
                    rows["id"], rows["is_fraud"].astype(str), at))
    if store is not None:
        for label in LABELLED:
            rows = store.read(cypher.render("export/verdicts", label=label))
            if rows:
                f = pd.DataFrame.from_records(rows)
                at = f.get("verdict_at", np.nan)
                out[label] = _merge_dated(out.get(label), _dated(f["key"], f["verdict"], at))
    return out


def known_by(dated: dict[str, pd.DataFrame], t: int | None) -> Labels:
    """Observed labels known at ``t`` (all when None): ``{label: 0/1 Series by key}``."""
    out: Labels = {}
    for label, f in dated.items():
        ok = f["observed"].notna()
        if t is not None:
            ok &= f["labeled_at"].isna() | (f["labeled_at"] <= t)
        out[label] = f.loc[ok, "observed"].astype(np.float64)
    return out


def explicit_negatives(dated: dict[str, pd.DataFrame], label: str) -> bool:
    """True when ``label``'s sources state legit cases (so unreported means unknown, not 0)."""
    f = dated.get(label)
    return f is not None and bool((f["observed"] == 0).any())
