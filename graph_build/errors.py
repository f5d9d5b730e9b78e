"""Project exceptions. The command line turns each into one clear line plus a hint."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One located problem in the input: file, row (line), column and why."""

    file: str
    row: int | None
    column: str | None
    why: str
    value: str | None = None
    table: str | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.row}" if self.row is not None else "")
        col = f" column {self.column!r}" if self.column else ""
        val = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}{col}: {self.why}{val}"


class FraudringError(Exception):
    """Base class: an error a user can act on. ``hint`` says what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class StoreError(FraudringError):
    """The graph store could not be reached or refused a statement."""


class ValidationError(FraudringError):
    """Input tables have problems; ``problems`` lists them (file, row, column, why)."""

    def __init__(self, message: str, problems: list | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.problems = problems or []


class MappingError(FraudringError):
    """A mapping file is malformed or does not fit the input tables."""


class ConfigError(FraudringError):
    """A command-line option, environment variable or config value is wrong."""
