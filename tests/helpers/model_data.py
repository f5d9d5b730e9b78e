"""Shared, cached inputs of the model tests (graph frames and prepared data of the fixture graph).

Imported by the ``test_*`` files of the model (features, hetero, objectives, sampler, CLI);
cached per data folder so the generated tables are read once per test session.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

from graph_build.frames import GraphFrames


@cache
def _frames(path: str) -> GraphFrames:
    from graph_build.to_graph import tables_to_frames
    from graph_build.build import check_input

    result, _ = check_input(path)
    return tables_to_frames(result.tables)


def frames_of(data_dir: str | Path) -> GraphFrames:
    """A private deep copy of the tables of ``data_dir`` as graph frames."""
    return copy.deepcopy(_frames(str(data_dir)))


@cache
def _prepared(path: str, split: str):
    from graphgnn.model.datamodule import DataModule

    dm = DataModule.from_frames(_frames(path), data_dir=path, split=split)
    dm.prepare()
    return dm


def prepared(data_dir: str | Path, split: str = "temporal"):
    """A prepared full-batch data module over ``data_dir`` (shared: do not modify its data)."""
    return _prepared(str(data_dir), split)
