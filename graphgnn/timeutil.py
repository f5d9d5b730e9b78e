"""One place for time: now in epoch ms, ms as text, durations, and as-of parsing.

Time is epoch milliseconds everywhere in the graph (DESIGN §3); these helpers turn it into what
people read and type. No heavy imports: every command imports this.
"""

from __future__ import annotations

import re
import time

from graph_build.errors import ConfigError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
DAY_MS = 86_400_000


def now_ms() -> int:
    """The wall clock in epoch milliseconds."""
    return int(time.time() * 1000)


def fmt_ms(ms: int | float | None, suffix: str = " UTC") -> str:
    """Epoch ms as ``YYYY-MM-DD HH:MM:SS UTC`` ("?" for None)."""
    if ms is None:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(ms) / 1000)) + suffix


def stamp_ms(ms: int) -> str:
    """Epoch ms as a compact UTC stamp for identifiers (``20260301T120000``)."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(ms / 1000))


def parse_duration(text: str) -> float:
    """``15m`` -> 900.0 seconds (units s, m, h, d; a bare number is seconds)."""
    match = _DURATION.match(str(text).strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"bad duration {text!r}", hint="use e.g. 30s, 15m, 1h or 1d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def fmt_duration(seconds: float) -> str:
    """Seconds as a short human duration (``45 s``, ``12 min``, ``3.5 h``, ``2.0 days``)."""
    seconds = abs(float(seconds))
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def parse_as_of(text: str | None, option: str = "--as-of") -> int | None:
    """Epoch ms, epoch seconds or an ISO date/time (UTC unless it says otherwise) -> epoch ms."""
    if text is None:
        return None
    try:
        value = float(text)
        return int(value if value > 1e11 else value * 1000)
    except ValueError:
        pass
    import pandas as pd

    try:
        ts = pd.Timestamp(text)
    except ValueError as e:
        raise ConfigError(f"{option} {text!r}: not a time",
                          hint="epoch ms, or ISO like 2026-03-01T00:00:00Z") from e
    if ts is pd.NaT:
        raise ConfigError(f"{option} {text!r}: not a time")
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.timestamp() * 1000)
