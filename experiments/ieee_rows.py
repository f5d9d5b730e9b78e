"""The first rows of an IEEE-CIS slice (transactions in time order, plus their identity rows)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd


def first_rows(data_dir: Path, dest: Path, rows: int, ext: str) -> Path:
    """Copy the first ``rows`` transactions of ``data_dir`` and their identity rows to ``dest``.

    Args:
        data_dir: a slice folder with ``transactions.<ext>`` and ``identity.<ext>``.
        dest: the folder to (re)create.
        rows: how many transactions to keep (the files are in time order: the earliest).
        ext: ``csv`` (read as text, so nothing is reinterpreted) or ``parquet``.
    """
    def read(name: str) -> pd.DataFrame:
        path = data_dir / f"{name}.{ext}"
        if ext == "csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.read_parquet(path)

    def write(frame: pd.DataFrame, name: str) -> None:
        path = dest / f"{name}.{ext}"
        frame.to_csv(path, index=False) if ext == "csv" else frame.to_parquet(path, index=False)

    tx = read("transactions").head(rows)
    ident = read("identity")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    write(tx, "transactions")
    write(ident[ident["TransactionID"].isin(tx["TransactionID"])], "identity")
    return dest
