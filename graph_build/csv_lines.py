"""Where the records of a CSV file start, for the rare files a fast reader cannot locate.

The Arrow CSV reader is fast but knows nothing of lines: its rows are records, and a quoted cell
may span lines, so "record i is on line i + 2" is wrong after an embedded newline, and its
"Expected 4 columns, got 5" names no line at all. These scans run only in those cases.
"""

from __future__ import annotations

import csv
from pathlib import Path

BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}


def utf16_bom(path: Path) -> str | None:
    """The name of the UTF-16 encoding whose byte-order mark starts ``path``, else None."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "UTF-32"
    return BOMS.get(head[:2])


def header(path: Path) -> list[str]:
    """The column names of a CSV file's first record (a UTF-8 byte-order mark is no name)."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        return next(csv.reader(f), [])


def needs_line_scan(path: Path, records: int) -> bool:
    """True when records and physical lines disagree (embedded newlines, blank lines)."""
    count = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    lines = count + (last != b"\n")  # a last line without its newline still counts
    return lines != records + 1


def record_lines(path: Path) -> list[int]:
    """The physical line (header = 1) on which each data record of ``path`` starts."""
    starts: list[int] = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader, None)
        end = reader.line_num
        for row in reader:
            if row:  # blank lines are skipped by the fast reader too
                starts.append(end + 1)
            end = reader.line_num
    return starts


def first_ragged(path: Path) -> tuple[int, int, int] | None:
    """(line, fields, expected) of the first record whose field count differs from the header."""
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return None
        end = reader.line_num
        for row in reader:
            if row and len(row) != len(header):
                return end + 1, len(row), len(header)
            end = reader.line_num
    return None
