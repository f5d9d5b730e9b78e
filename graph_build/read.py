"""Tables of a data folder → validated :class:`GraphFrames`, without touching any store."""

from __future__ import annotations

from pathlib import Path

from graph_build.frames import GraphFrames


def read_frames(data_dir: str | Path, mapping: str | Path | None = None, *,
                lenient: bool = False, allow_outside_paths: bool = False) -> GraphFrames:
    """Read, validate and map the tables of ``data_dir`` into graph frames.

    The same checks as ``fraudring build`` (so the same input gives the same graph), but the
    result stays in memory: use it to train or score from files, or to inspect a mapping.

    Args:
        data_dir: folder with canonical tables, or the source files of ``mapping``.
        mapping: a YAML layout file for other table shapes (see :mod:`graph_build.layouts`).
        lenient: keep the good rows (default: any problem raises).
        allow_outside_paths: let the mapping's source files lie outside ``data_dir``.

    Raises:
        ValidationError: the input has problems (each located: file, row, column, why).
    """
    from graph_build.build import check_input
    from graph_build.to_graph import tables_to_frames

    result, _ = check_input(data_dir, mapping, lenient=lenient,
                            allow_outside_paths=allow_outside_paths)
    return tables_to_frames(result.tables)
