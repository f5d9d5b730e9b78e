"""Values the store cannot survive are rejected with a location, before the first write."""

from __future__ import annotations

import pandas as pd
import pytest

from graph_build.build import build, check_input
from graph_build.errors import Problem, ValidationError

from test_validate import EVENTS, ORDERS, PRODUCTS, USERS, _folder, _problems

ORDER = "o2,u1,2026-01-04T00:00:00Z,{amount},completed,d1,1.2.3.4,,\n"


@pytest.mark.parametrize(
    ("override", "row", "column", "why"),
    [
        # Defect 2: FalkorDB crashed on u1 beside "u1 " (unique constraint).
        ({"users": USERS + "u1 ,2026-01-01T00:00:00Z,DE,x.com\n"}, 4, "user_id", "whitespace"),
        ({"users": USERS + " u3,2026-01-01T00:00:00Z,DE,x.com\n"}, 4, "user_id", "whitespace"),
        ({"users": USERS + "u3\u00a0,2026-01-01T00:00:00Z,DE,x.com\n"}, 4, "user_id",
         "whitespace"),
        ({"orders": ORDERS + "o2,u1 ,2026-01-04T00:00:00Z,3,completed,d1,1.2.3.4,,\n"},
         3, "user_id", "whitespace"),
        ({"events": EVENTS + "u1,2026-01-03T00:00:00Z,d1 ,1.2.3.4,login\n"}, 3, "device_id",
         "whitespace"),
        # Defect 6: a NUL byte (or another control character) in any text value.
        ({"users": USERS + "u3,2026-01-01T00:00:00Z,D\x00E,x.com\n"}, 4, "country",
         "control character"),
        ({"users": USERS + "u\x1b3,2026-01-01T00:00:00Z,DE,x.com\n"}, 4, "user_id",
         "control character"),
        ({"products": PRODUCTS + "p2,to\x07ys,3\n"}, 3, "category", "control character"),
        # Defect 8: bounds on amounts, prices and quantities.
        ({"orders": ORDERS + ORDER.format(amount="1e300")}, 3, "amount", "<= 1e+09"),
        ({"orders": ORDERS + ORDER.format(amount="2000000000")}, 3, "amount", "<= 1e+09"),
        ({"products": PRODUCTS + "p2,toys,1e20\n"}, 3, "price", "<= 1e+09"),
    ],
)
def test_bad_values_are_located(tmp_path, override, row, column, why):
    problems = _problems(tmp_path, **override)
    assert any(p.row == row and p.column == column and why in p.why for p in problems), problems


def test_text_with_a_tab_or_a_quoted_newline_is_fine(tmp_path):
    result, _ = check_input(_folder(tmp_path, products=PRODUCTS + 'p2,"toys\nand games",3\n'))
    assert result.ok


def test_a_nul_byte_writes_nothing(tmp_path, empty_store):
    folder = _folder(tmp_path, users=USERS + "u3,2026-01-01T00:00:00Z,D\x00E,x.com\n")
    with pytest.raises(ValidationError, match="control character"):
        build(folder, empty_store, log=lambda _m: None)
    assert empty_store.read("MATCH (n) RETURN count(n) AS n") in ([], [{"n": 0}])


@pytest.mark.parametrize("lenient", [False, True])
def test_every_row_of_a_referenced_table_rejected(tmp_path, empty_store, lenient):
    # Defect 7: every user is bad, so every order refers to a rejected user.
    bad_users = USERS.replace("2026-01-01T00:00:00Z", "never").replace(
        "2026-01-02T10:00:00+02:00", "never")
    folder = _folder(tmp_path, users=bad_users)
    with pytest.raises(ValidationError) as err:
        build(folder, empty_store, lenient=lenient, log=lambda _m: None)
    assert any(p.column == "created_at" for p in err.value.problems)
    assert any(p.column == "user_id" and "refers to" in p.why for p in err.value.problems)
    rejects = pd.read_csv(folder / "rejects.csv")
    assert {"users.csv", "orders.csv"} <= {f.rsplit("/", 1)[-1] for f in rejects["file"]}
    assert empty_store.read("MATCH (n) RETURN count(n) AS n") in ([], [{"n": 0}])


def test_problem_lives_in_errors_and_validate_still_exports_it():
    from graph_build import validate

    assert validate.Problem is Problem


def test_an_unreadable_file_is_listed_in_a_rejects_file(tmp_path):
    folder = _folder(tmp_path)
    (folder / "users.csv").write_bytes(b"user_id,created_at\nu1,\xff\xfe\n")
    with pytest.raises(ValidationError) as err:
        check_input(folder)
    assert "rejects.csv" in (err.value.hint or "")
    assert "not UTF-8" in (folder / "rejects.csv").read_text()


def test_an_unwritable_rejects_path_is_a_clear_error(tmp_path):
    from graph_build.errors import ConfigError

    (tmp_path / "blocker").write_text("a file, not a folder")
    (tmp_path / "in").mkdir()
    folder = _folder(tmp_path / "in", orders=ORDERS + ORDER.format(amount="-1"))
    with pytest.raises(ConfigError, match="cannot write the rejects file"):
        check_input(folder, rejects=tmp_path / "blocker" / "rejects.csv")
