"""Checks on single values that the store cannot be trusted to survive: text and magnitudes.

Why here and not in the store: FalkorDB 4.16 crashes (SIGSEGV in its unique-constraint check)
on two keys that differ only by trailing whitespace, and a NUL byte in a value fails a build
midway with an unlocated error. Both must be rejected, with a location, before the first write.
"""

from __future__ import annotations

import pandas as pd

# C0 control characters and DEL. Tab, newline and carriage return are allowed in free text
# (a quoted CSV cell may hold an address over two lines), never in a key.
_CONTROL = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_KEY_CONTROL = "[\x00-\x1f\x7f]"
# Whitespace a person cannot see at the edge of a key: ASCII and the Unicode spaces
# (no-break space, the en/em spaces, zero-width space, ideographic space, BOM). Literal
# characters, so the pattern means the same to Arrow's RE2 and to Python's re.
_EDGE_SPACE = " \t\n\r\f\v\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
_EDGE = f"^[{_EDGE_SPACE}]|[{_EDGE_SPACE}]$"

#: Largest accepted value per numeric column; anything larger is a typo or an attack
#: (``amount=1e300`` overflows every sum it enters). Other numeric columns: DEFAULT_MAX.
UPPER_BOUNDS: dict[str, float] = {
    "amount": 1e9,
    "price": 1e9,
    "quantity": 1e6,
}
DEFAULT_MAX = 1e15

#: Longest accepted key and text value (characters). A key longer than any id scheme, or a
#: 100 kB "country", is a broken export (a whole line pasted into one cell), and every export
#: and score write-back would carry it.
MAX_KEY_CHARS = 256
MAX_TEXT_CHARS = 10_000


def is_key_column(name: str) -> bool:
    """Columns that hold an entity's key (its own or a reference): ``*_id``, ``id``, ``ip``."""
    return name in ("id", "ip") or name.endswith("_id")


def upper_bound(column: str) -> float:
    """The largest accepted value of a numeric column."""
    return UPPER_BOUNDS.get(column, DEFAULT_MAX)


def _contains(values: pd.Series, pattern: str) -> pd.Series:
    text = values if pd.api.types.is_string_dtype(values.dtype) else values.astype("string")
    return text.str.contains(pattern, regex=True, na=False).astype(bool)


def text_problems(values: pd.Series, key: bool) -> list[tuple[pd.Series, str]]:
    """(mask of bad values, why) for each kind of bad text in ``values`` (missing is fine)."""
    found: list[tuple[pd.Series, str]] = []
    control = _contains(values, _KEY_CONTROL if key else _CONTROL)
    if control.any():
        found.append((control, "contains a control character (NUL, escape …): not allowed"
                      + (" in a key" if key else "")))
    limit = MAX_KEY_CHARS if key else MAX_TEXT_CHARS
    text = values if pd.api.types.is_string_dtype(values.dtype) else values.astype("string")
    long = (text.str.len() > limit).fillna(False).astype(bool)
    if long.any():
        found.append((long, f"too long: more than {limit:,} characters"
                      + (" in a key" if key else "")))
    if key:
        edge = _contains(values, _EDGE) & ~control
        if edge.any():
            found.append((edge, "key has leading or trailing whitespace (keys are compared "
                                "exactly; remove it)"))
    return found
