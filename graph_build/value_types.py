"""Text columns to typed values: times (epoch ms, UTC), numbers within bounds, booleans.

Every input value arrives as text (see :mod:`graph_build.tables`); this is where a column
becomes its schema type, and where each value that cannot is marked, with why. Vectorised
per column (Arrow for the common all-ISO time column).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from graph_build import schema
from graph_build.value_checks import upper_bound

# Times outside this window are typos (a year 2206, a seconds value read as ms …).
MIN_TIME_MS = 946_684_800_000  # 2000-01-01
FUTURE_SLACK_MS = 366 * 24 * 3600 * 1000
TRUE_WORDS = {"1", "true", "t", "yes", "y", "1.0"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "0.0"}


def _max_time_ms() -> int:
    return int(time.time() * 1000) + FUTURE_SLACK_MS


def _iso_times_arrow(values: pd.Series) -> pd.Series | None:
    """Epoch ms of a column that is entirely ISO-8601 (or missing), parsed by Arrow; else None.

    The common case for clean input, at a fraction of pandas' memory (which materialises Python
    strings); any value Arrow cannot parse sends the whole column down the general path, which
    then names the bad values.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.chunked_array(pa.array(values, from_pandas=True)) if not isinstance(
            values.array, pd.arrays.ArrowStringArray) else values.array._pa_array
        ms = pc.cast(pc.cast(arr, pa.timestamp("ms", tz="UTC")), pa.int64())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return None
    return pd.Series(ms.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get),
                     index=values.index, dtype="Int64")


def epoch_ms(times: pd.Series) -> pd.Series:
    """UTC datetimes (any pandas unit) as nullable int64 epoch milliseconds."""
    ms = times.dt.tz_convert(None).to_numpy().astype("datetime64[ms]").astype("int64")
    return pd.Series(ms, index=times.index, dtype="Int64").where(times.notna())


def parse_times(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO-8601 text or integer epoch milliseconds to int64 epoch ms (UTC).

    Returns:
        (parsed values with <NA> where missing or bad, mask of values that failed to parse).
    """
    parsed, bad, _ = _parse_times(values)
    return parsed, bad


def _parse_times(values: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    """:func:`parse_times` plus the mask of values written as epoch numbers (None: none are)."""
    fast = _iso_times_arrow(values)
    if fast is not None:
        return fast, pd.Series(False, index=values.index), None
    text = _text(values)
    numeric = text.str.fullmatch(r"\s*-?\d+\s*", na=False)
    out = pd.Series(pd.NA, index=values.index, dtype="Int64")
    if numeric.any():
        out[numeric] = pd.to_numeric(text[numeric], errors="coerce").astype("Int64")
    rest = text.notna() & ~numeric
    if rest.any():
        parsed = pd.to_datetime(text[rest], format="ISO8601", utc=True, errors="coerce")
        ms = epoch_ms(parsed)
        out[ms.index] = ms
    bad = text.notna() & out.isna()
    return out, bad, numeric


def _minority_form(numeric: pd.Series | None, good: pd.Series) -> tuple[pd.Series, str] | None:
    """Values of a time column written in its rarer form (epoch numbers among ISO text, or the
    reverse), with why; None when the column uses one form.

    Each form alone is unambiguous, but a column that mixes them was glued together from two
    sources, and one of them may count seconds, or another zone, where the other does not.
    """
    if numeric is None:
        return None
    numbers, text = good & numeric, good & ~numeric
    if not numbers.any() or not text.any():
        return None
    rare = numbers if numbers.sum() <= text.sum() else text
    forms = ("epoch ms", "ISO-8601 text") if rare is numbers else ("ISO-8601 text", "epoch ms")
    return rare, f"mixed time forms: {forms[0]} in a column of {forms[1]} (use one form)"


def _text(values: pd.Series) -> pd.Series:
    """``values`` as a string Series, without copying when it already is one."""
    return values if pd.api.types.is_string_dtype(values.dtype) else values.astype("string")


def convert(values: pd.Series, col: schema.Column) -> tuple[pd.Series, list[tuple[pd.Series, str]]]:
    """Convert one text column to its type.

    Returns:
        (typed values, with missing where bad; [(mask of bad values, why)] for each kind of
        bad value found, possibly empty).
    """
    if col.type == "time":
        parsed, bad, numeric = _parse_times(values)
        in_range = parsed.isna() | ((parsed >= MIN_TIME_MS) & (parsed <= _max_time_ms()))
        out_of_range = ~in_range.fillna(True).astype(bool)
        bad = bad | out_of_range
        why = "not a time (ISO-8601 like 2026-03-01T12:00:00Z, or epoch ms after 2000-01-01)"
        found = [(bad, why)]
        mixed = _minority_form(numeric, values.notna() & ~bad)
        if mixed is not None:
            found.append(mixed)
        return parsed, found
    if col.type in ("float", "int"):
        text = values.astype("string").str.strip()
        num = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & (num.isna() | ~np.isfinite(num.fillna(0).astype(float)))
        if col.type == "int":
            bad |= num.notna() & (num.fillna(0) % 1 != 0)
        if col.min is not None:
            bad |= num.notna() & (num < col.min)
        top = upper_bound(col.name)
        bad |= num.notna() & (num.abs() > top)
        kind = "an integer" if col.type == "int" else "a number"
        why = f"not {kind}" + (f" >= {col.min:g}" if col.min is not None else "") \
            + f" and <= {top:g}"
        num = num.astype("Int64") if col.type == "int" else num.astype("Float64")
        return num.where(~bad), [(bad, why)]
    if col.type == "bool":
        text = values.astype("string").str.strip().str.lower()
        truthy, falsy = text.isin(TRUE_WORDS), text.isin(FALSE_WORDS)
        bad = text.notna() & ~(truthy | falsy)
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[truthy.fillna(False)] = True
        out[falsy.fillna(False)] = False
        return out, [(bad, "not a boolean (0/1, true/false)")]
    # No copy: readers already turn empty cells into missing values, and keys are compared
    # exactly as written (stripping a million-row column twice was the biggest memory peak).
    return _text(values), []
