"""Why the hybrid's trees lose to "trees + neighbours" on hard mode: three measurements.

On one prepared hard-mode graph (the quality runs' cache), for one target type:

1. **Validation is blind**: test vs validation AUPRC of the same trees. Validation labels are
   the reports known by T2 (30-day median delay, 15 % never reported, 0.2 % of legit reported as
   fraud), so validation positives are few and partly noise: early stopping and the hybrid's
   choices made on them are close to random.
2. **Seed spread**: the hybrid's LightGBM settings (feature and row subsampling) over three seeds
   against the same trees with subsampling off (deterministic).
3. **Inputs**: deterministic trees at a fixed number of rounds (no early stopping) on the
   product's inputs, the own features + the label-aware columns only, and the own features,
   each with the baseline's neighbour aggregates.
4. **Settings** (``--settings``): the product's inputs under the old settings (positives
   up-weighted by negatives / positives capped at 50, L2 = 1, 20 examples per leaf) against
   today's :func:`graphgnn.model.hybrid.fit_trees` (unweighted, L2 = 10,
   large leaves, a fixed budget) and one factor changed at a time, two seeds each.

    python -m experiments.diagnose_trees --users 50000 --gen-seed 101 --target Order

Prints a table and writes ``results/diagnose_trees_<dataset>_<target>.csv``.
"""

from __future__ import annotations

import argparse
import csv

import numpy as np

from experiments.quality import MATURITY_DAYS, RESULTS, dataset_name, generated

ROUNDS = 200


def _label_aware(name: str) -> bool:
    return "fraud" in name or "labelled" in name


def _params(y, tr, seed: int, cap: float, l2: float, leaf: int) -> dict:
    """The hybrid's LightGBM settings with a positive weight (negatives / positives, capped at
    ``cap``; 1 = unweighted), an L2 penalty and examples per leaf."""
    from graphgnn.model.hybrid import PARAMS

    pos = y[tr].sum()
    return PARAMS | {"seed": seed, "lambda_l2": l2, "min_data_in_leaf": leaf,
                     "scale_pos_weight": min(max((tr.sum() - pos) / max(pos, 1), 1.0), cap)}


def _fit(x, y, tr, va, seed: int, deterministic: bool, rounds: int | None):
    """Measurements 1-3 under the hybrid's settings of the time they were made (positives
    up-weighted, L2 = 1, 20 per leaf, early stopping on validation AUPRC, patience 40)."""
    import lightgbm as lgb

    params = _params(y, tr, seed, cap=50.0, l2=1.0, leaf=20)
    if deterministic:
        params |= {"feature_fraction": 1.0, "bagging_fraction": 1.0, "bagging_freq": 0}
    train = lgb.Dataset(x[tr], y[tr])
    if rounds is not None:
        return lgb.train(params, train, rounds), rounds
    booster = lgb.train(params | {"metric": "average_precision"}, train, 600,
                        valid_sets=[lgb.Dataset(x[va], y[va], reference=train)],
                        callbacks=[lgb.early_stopping(40, verbose=False)])
    return booster, booster.best_iteration


#: (name, positive weight cap, L2, examples per leaf or None for today's) of the settings grid.
SETTINGS = (("old: weighted, L2 1, leaf 20", 50.0, 1.0, 20), ("today", 1.0, 10.0, None),
            ("today but weighted (cap 50)", 50.0, 10.0, None), ("today but L2 1", 1.0, 1.0, None))


def _fit_setting(x, y, tr, seed: int, cap: float, l2: float, leaf: int | None):
    import lightgbm as lgb

    from graphgnn.model.hybrid import ROUNDS, min_leaf

    params = _params(y, tr, seed, cap, l2, leaf or min_leaf(int(tr.sum())))
    return lgb.train(params, lgb.Dataset(x[tr], y[tr]), ROUNDS)


def settings_rows(p, x: np.ndarray, y: np.ndarray) -> list[dict]:
    """Rows of measurement 4: :data:`SETTINGS` x two seeds on the product's inputs ``x``."""
    from graphgnn.model.metrics import average_precision

    rows = []
    for name, cap, l2, leaf in SETTINGS:
        for seed in (0, 1):
            booster = _fit_setting(x, y, p.train, seed, cap, l2, leaf)
            rows.append({"inputs": "product inputs", "trees": name, "seed": seed,
                         "rounds": booster.current_iteration(),
                         **{f"{m}_auprc": round(average_precision(
                             booster.predict(x[mask]), y[mask]), 4)
                            for m, mask in (("val", p.val), ("test", p.test))},
                         "train_pos": int(y[p.train].sum()), "val_pos": int(y[p.val].sum()),
                         "test_pos": int(y[p.test].sum())})
            print(" | ".join(str(v) for v in rows[-1].values()), flush=True)
    return rows


def diagnose(users: int, gen_seed: int, target: str, settings: bool = False) -> list[dict]:
    """Rows ``{inputs, trees, seed, rounds, val_auprc, test_auprc}`` of the three measurements."""
    from experiments.baselines.neighbours import neighbour_features
    from experiments.data import prepare, retarget
    from graphgnn.model.metrics import average_precision

    root = generated(users, gen_seed)
    p = prepare(root, name=dataset_name(users, gen_seed), maturity_days=MATURITY_DAYS)
    if target != p.target:
        p = retarget(p, target, root)
    y = np.nan_to_num(p.y, nan=0.0).astype(int)
    if settings:
        return settings_rows(p, p.x, y)
    names = list(p.pg.meta["feature_names"][target])
    base = set(p.base_names)
    nb = neighbour_features(p)
    inputs = {
        "product inputs + neighbours": np.c_[p.x, nb],
        "own + label-aware + neighbours": np.c_[p.x[:, [i for i, n in enumerate(names)
                                                       if n in base or _label_aware(n)]], nb],
        "own + neighbours": np.c_[p.x_base, nb],
    }
    plan = [(k, "hybrid settings, early stop", s, False, None) for k in list(inputs)[:2]
            for s in (0, 1, 2)]
    plan += [(k, "deterministic, early stop", 0, True, None) for k in list(inputs)[:2]]
    plan += [(k, f"deterministic, {ROUNDS} rounds", 0, True, ROUNDS) for k in inputs]
    rows = []
    for key, trees, seed, det, rounds in plan:
        booster, used = _fit(inputs[key], y, p.train, p.val, seed, det, rounds)
        score = {m: average_precision(booster.predict(inputs[key][mask]), y[mask])
                 for m, mask in (("val", p.val), ("test", p.test))}
        rows.append({"inputs": key, "trees": trees, "seed": seed, "rounds": int(used),
                     "val_auprc": round(score["val"], 4), "test_auprc": round(score["test"], 4),
                     "train_pos": int(y[p.train].sum()), "val_pos": int(y[p.val].sum()),
                     "test_pos": int(y[p.test].sum())})
        print(" | ".join(str(v) for v in rows[-1].values()), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50000)
    ap.add_argument("--gen-seed", type=int, default=101)
    ap.add_argument("--target", choices=["User", "Order"], default="Order")
    ap.add_argument("--settings", action="store_true", help="measurement 4 only")
    args = ap.parse_args(argv)
    rows = diagnose(args.users, args.gen_seed, args.target, args.settings)
    tag = "_settings" if args.settings else ""
    out = (RESULTS / f"diagnose_trees{tag}_{dataset_name(args.users, args.gen_seed)}_"
           f"{args.target}.csv")
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"-> {out}")


if __name__ == "__main__":
    main()
