"""Which (entity, timestamp) examples each stage uses, and the label each may see.

Temporal split (the default; RelBench's (entity, timestamp) protocol): cut times T1 < T2 are
quantiles of the order times (of the volume of activity). *Training* examples are the entities
present in the snapshot at T1; *validation* examples the entities active in (T1, T2], read at
T2; *test* examples those active after T2, read at the end. An order is active once, at its own
time; a user in every window it acts in (a long-standing account taken over after T2 is a
test example). An entity already reported when a window opens is not an example of it.

Labels, by stage:

- train: observed labels known by T1 (``labeled_at <= T1``). Where the sources state only
  fraud (generated reports), an unreported entity counts as legit, but only once it is older
  than the maturity window (``maturity_ms``): a recent one may still be reported. Entities
  reported before the training window opens (T0) are known cases, not examples: their labels
  are what the label-aware features of the training snapshot read, so no example's own label
  ever reaches its inputs (not even two hops away, through a co-user's count);
- validation: observed labels known by the end of the data (what model selection can know);
- test: the true class where the generator wrote it (``truth``), else the observed labels.

Random split: one snapshot at the end, examples stratified over the labelled entities
(``sklearn.model_selection.train_test_split`` with the given seed; S-FFSD's published protocol
is ``test_frac=0.6``, ``seed=2``), validation carved from the training part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

STAGES = ("train", "val", "test")


@dataclass
class Split:
    """Cut times and, per stage and labelled type, example masks and labels.

    Attributes:
        kind: ``temporal`` or ``random``.
        t1, t2: cut times (both the end of the data for ``random``).
        as_of: the end of the data.
        masks: stage -> label -> bool ``[N]`` over the rows of that stage's snapshot.
        y: stage -> label -> float32 ``[N]`` (NaN = no label; 1 fraud, 0 legit).
    """

    kind: str
    t1: int
    t2: int
    as_of: int
    masks: dict[str, dict[str, np.ndarray]]
    y: dict[str, dict[str, np.ndarray]]

    def snapshot_time(self, stage: str) -> int:
        """The as-of time of a stage's snapshot."""
        if self.kind == "random":
            return self.as_of
        return {"train": self.t1, "val": self.t2, "test": self.as_of}[stage]


def split_times(first: np.ndarray, val_frac: float, test_frac: float) -> tuple[int, int]:
    """``(T1, T2)`` as quantiles of first-activity times (``1 - val - test`` and ``1 - test``)."""
    if len(first) == 0:
        return 0, 0
    q1, q2 = np.quantile(first, [1 - val_frac - test_frac, 1 - test_frac], method="lower")
    return int(q1), int(q2)


def _labels_at(dated: pd.DataFrame | None, keys: np.ndarray, t: int | None,
               clean: bool = False) -> np.ndarray:
    """Observed labels known at ``t`` aligned to ``keys`` (NaN unknown); ``clean``: truth."""
    if dated is None:
        return np.full(len(keys), np.nan, np.float32)
    frame = dated.reindex(keys)
    if clean and frame["truth"].notna().any():
        return frame["truth"].to_numpy(np.float32)
    obs = frame["observed"].to_numpy(np.float64)
    if t is not None:
        at = frame["labeled_at"].to_numpy(np.float64)
        obs = np.where(np.isnan(at) | (at <= t), obs, np.nan)
    return obs.astype(np.float32)


def temporal_examples(last: np.ndarray, keys: np.ndarray, dated: pd.DataFrame | None,
                      stage: str, t1: int, t2: int, as_of: int, maturity_ms: int,
                      negatives_explicit: bool, t0: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``(mask, y)`` of one stage over the rows of its snapshot.

    Args:
        last: each row's latest activity at or before the snapshot time (an order's: its own
            time), from that snapshot's features.
        keys: node keys of the rows. dated: the label sources of this type.
        stage: ``train``, ``val`` or ``test``. t1, t2, as_of: the cut times.
        maturity_ms: an unreported row counts as legit in training only when its latest
            activity is at least this old at T1 (a recent one may still be reported).
        negatives_explicit: the sources state legit cases (then unreported = unknown).
        t0: the training window's start: entities reported by then are known, not examples
            (their labels feed the label-aware features instead; default: none excluded).
    """
    if stage == "train":
        mask = np.ones(len(keys), dtype=bool)
        if t0 is not None:
            mask &= ~(_labels_at(dated, keys, t0) == 1)
        y = _labels_at(dated, keys, t1)
        if not negatives_explicit:
            unreported = np.isnan(y)
            y = np.where(unreported & (last <= t1 - maturity_ms), 0.0, y).astype(np.float32)
    else:
        start = t1 if stage == "val" else t2
        # Active in the stage's window and not already reported when it opened: a detection
        # still to be made (a user reported by then is known, not found).
        reported = _labels_at(dated, keys, start) == 1
        mask = (last > start) & ~reported
        y = _labels_at(dated, keys, as_of, clean=stage == "test")
        if not negatives_explicit:
            y = np.nan_to_num(y, nan=0.0)
    y = np.where(mask, y, np.nan).astype(np.float32)
    return mask & ~np.isnan(y), y


def random_examples(keys: np.ndarray, dated: pd.DataFrame | None, val_frac: float,
                    test_frac: float, seed: int, negatives_explicit: bool
                    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Stratified ``stage -> (mask, y)`` over the labelled rows (one snapshot for all stages)."""
    from sklearn.model_selection import train_test_split

    y = _labels_at(dated, keys, None)
    if not negatives_explicit:
        y = np.nan_to_num(y, nan=0.0).astype(np.float32)
    rows = np.flatnonzero(~np.isnan(y))
    out = {s: (np.zeros(len(keys), dtype=bool), y) for s in STAGES}
    if len(rows) < 10 or len(np.unique(y[rows])) < 2:
        out["train"][0][rows] = True
        return out
    rest, test = train_test_split(rows, test_size=test_frac, stratify=y[rows],
                                  random_state=seed, shuffle=True)
    val_share = val_frac / max(1 - test_frac, 1e-9)
    train, val = train_test_split(rest, test_size=val_share, stratify=y[rest],
                                  random_state=seed, shuffle=True)
    for stage, idx in (("train", train), ("val", val), ("test", test)):
        out[stage][0][idx] = True
    return out
