"""Reading tables: each problem the reader finds has a line; missing is the same in both forms."""

from __future__ import annotations

import pandas as pd
import pytest

from graph_build.errors import ValidationError
from graph_build.tables import LINE, read_table


def _problem(path):
    with pytest.raises(ValidationError) as err:
        read_table(path)
    (problem,) = err.value.problems
    return problem


def test_utf16_is_named_with_a_line(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("user_id,created_at\nu1,2026-01-01T00:00:00Z\n", encoding="utf-16")
    problem = _problem(path)
    assert problem.row == 1 and "UTF-16" in problem.why


def test_a_ragged_row_has_its_line(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("user_id,created_at\nu1,2026\nu2,2026,extra\n", encoding="utf-8")
    problem = _problem(path)
    assert problem.row == 3 and "3 fields where the header has 2" in problem.why


def test_line_numbers_after_an_embedded_newline(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text('product_id,category\np1,"two\nlines"\n\np2,toys\n', encoding="utf-8")
    table = read_table(path)
    assert table.frame[LINE].tolist() == [2, 5]
    assert table.frame["product_id"].tolist() == ["p1", "p2"]


def test_empty_parquet_strings_are_missing_like_empty_csv_cells(tmp_path):
    frame = pd.DataFrame({"user_id": ["u1", "u2"], "country": ["", "DE"]})
    frame.to_parquet(tmp_path / "users.parquet")
    (tmp_path / "users.csv").write_text("user_id,country\nu1,\nu2,DE\n", encoding="utf-8")
    from_parquet = read_table(tmp_path / "users.parquet").frame
    from_csv = read_table(tmp_path / "users.csv").frame
    assert from_parquet["country"].isna().tolist() == [True, False]
    assert from_csv["country"].isna().tolist() == [True, False]
