"""The ``fraudring`` command line: one parser, shared options declared once."""

from graphgnn.cli.main import main

__all__ = ["main"]
