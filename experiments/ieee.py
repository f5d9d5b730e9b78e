"""IEEE-CIS real data: the timed labelled slice and the 150k unlabelled slice.

    python -m experiments.ieee timed [--seeds 0 1 2] [--methods ...] [--rows N]
    python -m experiments.ieee unlabelled [--rows N] [--epochs E]

- ``timed`` (:mod:`experiments.ieee_timed`): ``../shared/data/ieee_cis_timed`` through
  ``configs/mappings/ieee_cis_timed.yaml`` on the point-in-time protocol, orders and users
  (cards); rows ``ieee-cis-timed`` of ``results/quality.csv``, the table printed and kept in
  ``results/ieee_timed.md``.
- ``unlabelled`` (:mod:`experiments.ieee_unlabelled`): ``../shared/data/ieee_cis_150k_unlabelled``
  built into the embedded store, the unsupervised objective trained and scored by the product,
  rings found by the product; ``results/ieee_unlabelled_rings.csv``, ``results/ieee_unlabelled.md``
  and ``results/ieee_unlabelled_ring.png`` (the largest ring, drawn by the report's helper).

Both skip (exit 0, with a message) when ``../shared/data`` is absent.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TIMED_MD = RESULTS / "ieee_timed.md"
UNLABELLED_MD = RESULTS / "ieee_unlabelled.md"


def readme_section() -> str:
    """The IEEE-CIS section of ``experiments/README.md``: the two markdown summaries."""
    parts = ["## IEEE-CIS (real data)", ""]
    for path in (TIMED_MD, UNLABELLED_MD):
        if path.is_file():
            # Each file starts with its own '# ' title: two levels down inside the README.
            text = re.sub(r"^# ", "### ", path.read_text().strip(), flags=re.M)
            parts += [text.replace("](ieee_", "](results/ieee_"), ""]  # README: one level up
    if len(parts) == 2:
        parts.append("Not run yet: `python -m experiments.ieee timed` / `... unlabelled`.")
    return "\n".join(parts).rstrip() + "\n"


def _timed(args) -> int:
    from experiments.ieee_timed import DATA, MATURITY_HOURS, ci_table, run_timed, table

    if not DATA.is_dir():
        print(f"IEEE-CIS timed slice not found at {DATA}: skipped", file=sys.stderr)
        return 0
    rows, ci = run_timed(args.seeds, args.methods, args.rows)
    text = (table(rows) + "\n\nPaired bootstrap (1,000 resamples of the test rows):\n\n"
            + ci_table(ci))
    print(text)
    if not args.methods and not args.rows:  # the full run is the one the README shows
        cap = f", first {args.rows:,} rows" if args.rows else ""
        TIMED_MD.write_text(
            "# IEEE-CIS timed slice (point-in-time protocol)\n\n"
            f"`python -m experiments.ieee timed` (seeds {' '.join(map(str, args.seeds))}{cap}):"
            " 5,000 real transactions (109 fraud) over about one day, mapped by "
            "`configs/mappings/ieee_cis_timed.yaml`; temporal split 60/20/20 of the order "
            "times. IEEE-CIS publishes no label date: a label is taken as known "
            f"{MATURITY_HOURS:g} h after its transaction (a card: after its first fraudulent "
            "one). Test rows are judged on the final `isFraud`. Rows `ieee-cis-timed` of "
            "`quality.csv`; mean (min-max) over training seeds. With about 20-30 test "
            "positives per target, differences under ~0.1 AUPRC are noise; "
            "`best_single_feature` is picked on the test rows (an oracle sanity row), and "
            "the tree methods are deterministic (one value for every seed).\n\n"
            + text + "\n\n![orders](ieee_timed_pr_Order.png)\n![cards](ieee_timed_pr_User.png)\n")
    return 0


def _unlabelled(args) -> int:
    from experiments.ieee_unlabelled import DATA, run_unlabelled

    if not DATA.is_dir():
        print(f"IEEE-CIS 150k slice not found at {DATA}: skipped", file=sys.stderr)
        return 0
    run_unlabelled(rows=args.rows, epochs=args.epochs)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m experiments.ieee")
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("timed", help="the labelled timed slice on the point-in-time protocol")
    t.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    t.add_argument("--methods", nargs="+", default=None)
    t.add_argument("--rows", type=int, default=None, help="first N transactions only")
    u = sub.add_parser("unlabelled", help="unsupervised scores and rings on the 150k slice")
    u.add_argument("--rows", type=int, default=None, help="first N transactions only")
    u.add_argument("--epochs", type=int, default=None, help="unsupervised training epochs")
    args = ap.parse_args(argv)
    return _timed(args) if args.what == "timed" else _unlabelled(args)


if __name__ == "__main__":
    raise SystemExit(main())
