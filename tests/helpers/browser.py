"""Finding a real browser for tests marked ``browser``."""

from __future__ import annotations

import os
import shutil


def chromium_path() -> str | None:
    """Debian's chromium (or FRAUDRING_CHROMIUM), for tests marked ``browser``."""
    for candidate in (os.environ.get("FRAUDRING_CHROMIUM"), shutil.which("chromium"),
                      "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None
