"""Read input tables (CSV or Parquet) as raw text frames that remember where each row came from.

Every value is read as text so that validation, not the reader, decides what is wrong, and every
row keeps its line number (``_line``) so that a problem can be located in the file a person has.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from graph_build import csv_lines, schema
from graph_build.errors import Problem, ValidationError
from graph_build.parquet_text import ParquetProblem, read_parquet_text

LINE = "_line"
SUFFIXES = (".csv", ".parquet")


@dataclass
class RawTable:
    """One input table as text.

    Attributes:
        name: canonical table name (``users``, ``orders`` …) or a mapping's source name.
        file: the path shown in messages.
        frame: string columns plus ``_line`` (CSV: the physical line, header = 1; Parquet: the
            1-based row number).
    """

    name: str
    file: str
    frame: pd.DataFrame


def _first_bad_byte(path: Path) -> tuple[int, int]:
    """(line, byte value) of the first byte of ``path`` that is not valid UTF-8.

    The CSV reader decodes in chunks, so its error offset is relative to a chunk; this runs
    only on the error path, once.
    """
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return data[: e.start].count(b"\n") + 1, data[e.start]
    return 1, 0


def _not_utf8(path: Path, shown: str) -> ValidationError:
    """The located error for a file that is not UTF-8."""

    line, byte = _first_bad_byte(path)
    why = f"not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
    return ValidationError(f"{shown}:{line}: {why}", [Problem(shown, line, None, why)])


def header_problem(names: list[str]) -> tuple[str | None, str] | None:
    """(column, why) for a header that cannot be read as columns, else None.

    Why checked: a reader silently renames a repeated name (``country.1``) or a nameless one
    (``Unnamed: 4``), and a file separated by ``;`` reads as one column; each then looked like
    an unknown column, or under ``--lenient`` was dropped without a word.
    """
    stripped = [str(n).strip() for n in names]
    seen: set[str] = set()
    for i, name in enumerate(stripped, start=1):
        if not name:
            return None, (f"column {i} of the header has no name (a delimiter at the end of "
                          "the line?)")
        if name in seen:
            return name, f"duplicate column {name!r} in the header"
        seen.add(name)
    if len(stripped) == 1:
        for sep, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in stripped[0]:
                return None, (f"the header is one column {stripped[0][:60]!r}: this file "
                              f"looks separated by {word}; the delimiter must be ','")
    return None


def read_table(path: str | Path, name: str | None = None) -> RawTable:
    """Read one CSV (UTF-8) or Parquet file as text columns with line numbers.

    Raises:
        ValidationError: the file is empty, not UTF-8, or not parseable as CSV.
    """

    path = Path(path)
    name = name or path.stem
    shown = str(path)
    if not path.is_file():
        raise ValidationError(f"{shown}: file not found", [Problem(shown, None, None, "missing")])
    if path.stat().st_size == 0:
        raise ValidationError(f"{shown}: empty file", [Problem(shown, None, None, "empty file")])
    try:
        if path.suffix == ".parquet":
            frame = read_parquet_text(path, header_problem)
            frame[LINE] = range(1, len(frame) + 1)
        else:
            encoding = csv_lines.utf16_bom(path)
            if encoding:
                why = f"{encoding} text; save the file as UTF-8"
                raise ValidationError(f"{shown}:1: {why}", [Problem(shown, 1, None, why)])
            found = header_problem(csv_lines.header(path))
            if found:
                raise ParquetProblem(1, *found)
            # pyarrow's parser: 5x faster than the C engine and builds Arrow strings directly
            # (no Python objects), which is what keeps a million-user build small.
            frame = pd.read_csv(
                path,
                dtype=str,
                engine="pyarrow",
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
            )
            frame[LINE] = (csv_lines.record_lines(path)
                           if csv_lines.needs_line_scan(path, len(frame))
                           else range(2, len(frame) + 2))
    except ParquetProblem as e:  # (a located problem of either format)
        raise ValidationError(str(Problem(shown, e.row, e.column, e.why)),
                              [Problem(shown, e.row, e.column, e.why)]) from e
    except UnicodeDecodeError as e:
        raise _not_utf8(path, shown) from e
    except pd.errors.EmptyDataError as e:
        raise ValidationError(
            f"{shown}: empty file", [Problem(shown, None, None, "empty file")]
        ) from e
    except (pd.errors.ParserError, ValueError, OSError) as e:
        if "utf8" in str(e).lower() or "utf-8" in str(e).lower():  # Arrow's wording
            raise _not_utf8(path, shown) from e
        ragged = csv_lines.first_ragged(path) if path.suffix != ".parquet" else None
        if ragged:
            line, got, expected = ragged
            why = f"{got} fields where the header has {expected}"
            raise ValidationError(f"{shown}:{line}: {why}",
                                  [Problem(shown, line, None, why)]) from e
        why = f"unreadable: {str(e).strip().splitlines()[-1]}"
        raise ValidationError(f"{shown}: {why}", [Problem(shown, None, None, why)]) from e
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(name, shown, frame)


def find_tables(data_dir: str | Path) -> dict[str, Path]:
    """The canonical table files present in ``data_dir`` (``users.csv`` or ``users.parquet``).

    Raises:
        ValidationError: the folder is missing, holds both forms of a table, or lacks a
            required table.
    """

    folder = Path(data_dir)
    if not folder.is_dir():
        raise ValidationError(
            f"{folder}: no such data folder",
            [Problem(str(folder), None, None, "no such folder")],
            hint="fraudring generate --out DIR makes one",
        )
    found: dict[str, Path] = {}
    problems = []
    for name, spec in schema.TABLES.items():
        paths = [folder / f"{name}{s}" for s in SUFFIXES if (folder / f"{name}{s}").is_file()]
        if len(paths) > 1:
            problems.append(Problem(str(paths[1]), None, None,
                                    f"both {paths[0].name} and {paths[1].name}: keep one"))
        elif paths:
            found[name] = paths[0]
        elif not spec.optional:
            problems.append(Problem(str(folder / f"{name}.csv"), None, None,
                                    "required table is missing"))
    if problems:
        raise ValidationError("; ".join(str(p) for p in problems), problems,
                              hint="a data folder holds users and orders tables (.csv or "
                              ".parquet), and optionally " + ", ".join(
                                  n for n, t in schema.TABLES.items() if t.optional))
    return found
