"""Reading input: the tables of a data folder (through a mapping), validated, as tables or as
:class:`GraphFrames` — everything before the first write, without touching any store."""

from __future__ import annotations

from pathlib import Path

from graph_build.errors import ConfigError, ValidationError
from graph_build.frames import GraphFrames
from graph_build.tables import RawTable, find_tables, read_table
from graph_build.validate import ValidationResult, validate_tables, write_rejects

MAX_PROBLEMS_SHOWN = 10


def read_input(data_dir: str | Path, mapping: str | Path | None = None,
               allow_outside_paths: bool = False) -> dict[str, RawTable]:
    """The canonical raw tables of a data folder, through a mapping file when one is given.

    ``allow_outside_paths`` lets a mapping's source files lie outside ``data_dir``.
    """
    if mapping:
        from graph_build.layouts import apply_mapping

        return apply_mapping(mapping, data_dir, allow_outside=allow_outside_paths)
    return {name: read_table(path, name) for name, path in find_tables(data_dir).items()}


def check_input(
    data_dir: str | Path,
    mapping: str | Path | None = None,
    lenient: bool = False,
    rejects: str | Path | None = None,
    allow_outside_paths: bool = False,
) -> tuple[ValidationResult, str | None]:
    """Read and validate; write the rejects file when there are problems.

    Raises:
        ValidationError: problems were found and ``lenient`` is off; the message names the
            first ones and the rejects file.
    """
    target = Path(rejects) if rejects else Path(data_dir) / "rejects.csv"
    try:
        raw = read_input(data_dir, mapping, allow_outside_paths)
    except ValidationError as e:  # a file that cannot be read at all: list it too
        if e.problems:  # written even when the error has a hint of its own
            listed = f"listed in {_rejects(e.problems, {}, target)}"
            e.hint = f"{e.hint}; {listed}" if e.hint else listed
        raise
    from graph_build.layouts import read_declaration

    result = validate_tables(raw, lenient=lenient, declared=read_declaration(data_dir, mapping))
    rejects_file = None
    if result.problems:
        rejects_file = _rejects(result.problems, raw, target)
        emptied = [name for name in ("users", "orders")
                   if name in raw and len(raw[name].frame) and not len(
                       result.tables.get(name, ()))]
        if not lenient or emptied:
            shown = "\n  ".join(str(p) for p in result.problems[:MAX_PROBLEMS_SHOWN])
            more = len(result.problems) - MAX_PROBLEMS_SHOWN
            tail = f"\n  … and {more} more" if more > 0 else ""
            head = (f"every row of {' and '.join(emptied)} was rejected" if emptied else
                    f"{len(result.problems)} problem(s) in the input")
            raise ValidationError(
                f"{head}; nothing was written:\n  {shown}{tail}",
                result.problems,
                hint=f"every bad row is listed in {rejects_file}; fix them, or pass --lenient "
                "to load the good rows only",
            )
    return result, rejects_file


def _rejects(problems: list, raw: dict[str, RawTable], target: Path) -> str:
    """Write the rejects file; an unwritable path is a clear error, not a traceback."""
    try:
        return str(write_rejects(problems, raw, target))
    except OSError as e:
        raise ConfigError(f"cannot write the rejects file {target}: {e.strerror or e}",
                          hint="pass --rejects PATH in a writable folder") from e


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
    from graph_build.to_graph import tables_to_frames

    result, _ = check_input(data_dir, mapping, lenient=lenient,
                            allow_outside_paths=allow_outside_paths)
    return tables_to_frames(result.tables)
