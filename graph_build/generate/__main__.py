"""``python -m graph_build.generate --out DIR [--users N] [--seed S] [--hard]``."""

import sys

from graph_build.generate.cli import main

sys.exit(main())
