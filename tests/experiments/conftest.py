"""``experiments`` is not an installed package (only graph_build and graphgnn are): put the
repository root on the path so ``import experiments`` works under plain ``pytest`` too."""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
