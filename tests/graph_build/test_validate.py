"""Validation finds every kind of bad input and says where it is."""

from __future__ import annotations

import pytest

from graph_build.errors import ValidationError
from graph_build.build import check_input
from graph_build.tables import read_table
from graph_build.validate import parse_times, validate_tables

USERS = "user_id,created_at,country,email_domain\nu1,2026-01-01T00:00:00Z,DE,x.com\n" \
        "u2,2026-01-02T10:00:00+02:00,FR,y.com\n"
EVENTS = "user_id,ts,device_id,ip,event_type\nu1,2026-01-03T00:00:00Z,d1,1.2.3.4,login\n"
ORDERS = ("order_id,user_id,created_at,amount,status,device_id,ip,address_id,payment_id\n"
          "o1,u1,2026-01-04T00:00:00Z,10.5,completed,d1,1.2.3.4,,\n")
PRODUCTS = "product_id,category,price\np1,toys,3.5\n"


def _folder(tmp_path, **overrides: str):
    files = {"users": USERS, "events": EVENTS, "orders": ORDERS, "products": PRODUCTS}
    files.update(overrides)
    for name, text in files.items():
        if text is not None:
            (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def _problems(tmp_path, **overrides):
    with pytest.raises(ValidationError) as err:
        check_input(_folder(tmp_path, **overrides))
    return err.value.problems


def test_good_input_passes_and_is_typed(tmp_path):
    result, rejects = check_input(_folder(tmp_path))
    assert result.ok and rejects is None
    users = result.tables["users"]
    # +02:00 is converted to UTC epoch milliseconds.
    assert int(users.loc[users["user_id"] == "u2", "created_at"].iloc[0]) == 1767340800000
    assert float(result.tables["orders"]["amount"].iloc[0]) == 10.5


def test_times_parse_iso_and_epoch_ms():
    import pandas as pd

    values, bad = parse_times(pd.Series(["2026-01-01T00:00:00Z", "1767225600000", "yesterday"]))
    assert values.iloc[0] == values.iloc[1] == 1767225600000
    assert bad.tolist() == [False, False, True]


@pytest.mark.parametrize(
    ("override", "row", "column", "why"),
    [
        ({"orders": ORDERS + "o2,u1,not-a-date,3,completed,d1,1.2.3.4,,\n"},
         3, "created_at", "not a time"),
        ({"orders": ORDERS + "o2,u1,1999-01-01T00:00:00Z,3,completed,,,,\n"},
         3, "created_at", "not a time"),
        ({"orders": ORDERS + "o2,u1,2026-01-04T00:00:00Z,-3,completed,,,,\n"},
         3, "amount", "not a number >= 0"),
        ({"orders": ORDERS + "o2,u1,2026-01-04T00:00:00Z,NaN,completed,,,,\n"},
         3, "amount", "not a number"),
        ({"orders": ORDERS + "o1,u1,2026-01-05T00:00:00Z,3,completed,,,,\n"},
         3, "order_id", "duplicate key"),
        ({"orders": ORDERS + "o2,u9,2026-01-05T00:00:00Z,3,completed,,,,\n"},
         3, "user_id", "refers to a user_id"),
        ({"events": EVENTS + ",2026-01-03T00:00:00Z,d1,1.2.3.4,login\n"},
         3, "user_id", "required value is empty"),
        ({"users": USERS.replace("email_domain\n", "email_domain,shoe_size\n")
          .replace("x.com\n", "x.com,42\n").replace("y.com\n", "y.com,41\n")},
         1, "shoe_size", "unknown column"),
    ],
)
def test_each_problem_is_located(tmp_path, override, row, column, why):
    problems = _problems(tmp_path, **override)
    assert any(p.row == row and p.column == column and why in p.why for p in problems), problems
    assert all(p.file.endswith(".csv") for p in problems)


def test_missing_required_column_and_table(tmp_path):
    problems = _problems(tmp_path, orders=ORDERS.replace("amount,", "").replace("10.5,", ""))
    assert any(p.column == "amount" and "missing" in p.why for p in problems)
    (tmp_path / "users.csv").unlink()
    with pytest.raises(ValidationError, match="users.csv: required table is missing"):
        check_input(tmp_path)


def test_empty_file_and_header_only(tmp_path):
    with pytest.raises(ValidationError, match="empty file"):
        check_input(_folder(tmp_path, products=""))
    problems = _problems(tmp_path, products="product_id,category,price\n")
    assert any("no data rows" in p.why for p in problems)


def test_wrong_encoding_names_the_line(tmp_path):
    folder = _folder(tmp_path)
    text = USERS + "u3,2026-01-02T00:00:00Z,DE,m\xfcller.de\n"
    (folder / "users.csv").write_bytes(text.encode("latin-1"))
    with pytest.raises(ValidationError, match=r"users.csv:4: not UTF-8"):
        read_table(folder / "users.csv")


def test_lenient_cascades_to_dependent_rows(tmp_path):
    from graph_build.read import read_input

    folder = _folder(tmp_path, users=USERS.replace("u1,2026-01-01T00:00:00Z", "u1,garbage"))
    result = validate_tables(read_input(folder), lenient=True)
    # u1 is bad, so its event and its order are rejected as well; u2 survives.
    assert result.tables["users"]["user_id"].tolist() == ["u2"]
    assert result.tables["events"].empty and result.tables["orders"].empty
    assert result.rejected_rows == 3
