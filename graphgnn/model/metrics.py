"""Ranking metrics of one score vector against 0/1 labels — numpy only, one definition for all.

The System's validation/test logs, the CLI summary and every experiment table use
:func:`ranking`, so a number means the same wherever it appears:

- ``auprc``: average precision (step-wise, ties grouped as scikit-learn does);
- ``auroc``: area under the ROC curve (Mann-Whitney with average ranks for ties);
- ``recall_at_k``: recall in the top K = number of positives (R-precision);
- ``precision_at_k``: precision in the top ``top_k`` (an investigator's review budget);
- ``precision_at_<b>`` / ``recall_at_<b>``: in the top ``b`` share of the ranked population
  (alert budgets 0.1 %, 0.5 %, 1 %; at least one alert);
- ``recall_at_1fpr``: recall at the threshold where 1 % of the negatives are flagged.

Ties in the top-K metrics are broken by position (stable sort), as an alert queue would.
"""

from __future__ import annotations

import numpy as np

BUDGETS: tuple[float, ...] = (0.001, 0.005, 0.01)
CORE = ("auprc", "auroc", "recall_at_k", "precision_at_k")


def budget_name(share: float) -> str:
    """``0.005`` -> ``"0.5pct"``."""
    return f"{share * 100:g}pct"


def names(budgets: tuple[float, ...] = BUDGETS) -> list[str]:
    """Every key :func:`ranking` returns besides ``n`` and ``positives``, in table order."""
    out = list(CORE)
    for b in budgets:
        out += [f"precision_at_{budget_name(b)}", f"recall_at_{budget_name(b)}"]
    return out + ["recall_at_1fpr"]


def average_precision(score: np.ndarray, y: np.ndarray) -> float:
    """Average precision with tied scores forming one threshold (as scikit-learn)."""
    order = np.argsort(-score, kind="stable")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # end of each tie group
    tp = np.cumsum(t)[last]
    fp = (last + 1) - tp
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(t.sum(), 1)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def auroc(score: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC via average ranks (ties count one half)."""
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    ranks = np.empty(len(s))
    starts = np.r_[0, np.flatnonzero(np.diff(s) != 0) + 1]
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks[order] = np.repeat(avg, ends - starts)
    pos = y.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def ranking(score, y, top_k: int = 100, budgets: tuple[float, ...] = BUDGETS
            ) -> dict[str, float]:
    """Every metric of one ranking (NaN where undefined: a single class).

    Args:
        score: ``[N]`` scores, higher = more suspicious (NaN -> lowest).
        y: ``[N]`` 0/1 labels.
        top_k: K of ``precision_at_k``.
        budgets: alert budgets as shares of ``N``.

    Returns:
        ``n``, ``positives`` and the keys of :func:`names`.
    """
    y = np.asarray(y).astype(np.int64)
    score = np.nan_to_num(np.asarray(score, np.float64), nan=-1e300, posinf=1e300,
                          neginf=-1e300)
    n, pos = len(y), int(y.sum())
    out: dict[str, float] = {"n": float(n), "positives": float(pos)}
    if pos == 0 or pos == n:
        return out | dict.fromkeys(names(budgets), float("nan"))
    order = np.argsort(-score, kind="stable")
    hits = np.cumsum(y[order])
    k = min(top_k, n)
    out |= {"auprc": average_precision(score, y), "auroc": auroc(score, y),
            "recall_at_k": float(hits[pos - 1] / pos), "precision_at_k": float(hits[k - 1] / k)}
    for b in budgets:
        m = max(1, int(round(b * n)))
        out[f"precision_at_{budget_name(b)}"] = float(hits[m - 1] / m)
        out[f"recall_at_{budget_name(b)}"] = float(hits[m - 1] / pos)
    neg_scores = np.sort(score[y == 0])[::-1]
    cut = neg_scores[max(0, int(np.floor(0.01 * len(neg_scores))) - 1)] if len(neg_scores) else 0
    out["recall_at_1fpr"] = float((score[y == 1] > cut).sum() / pos)
    return out
