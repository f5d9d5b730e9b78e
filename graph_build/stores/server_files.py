"""The embedded store's data folder: where it is, and that only its owner can read it.

The folder holds the graph (``db/``), the server's log (crash dumps there hold row data) and
the password, so it is 0700 and its files 0600, whatever an older version or a umask left.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from graph_build.errors import ConfigError

DEFAULT_HOME = ".fraudring"


def data_home(home: str | Path | None = None) -> Path:
    """The data folder of the embedded store: argument, ``FRAUDRING_HOME`` or ``./.fraudring``."""
    return Path(home or os.environ.get("FRAUDRING_HOME") or DEFAULT_HOME).resolve()


def private_dir(path: Path) -> None:
    """Create ``path`` (and parents) and make it 0700: the data, log and password live here."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except (FileExistsError, NotADirectoryError) as e:
        raise ConfigError(f"the embedded store's data folder {path} is not a folder",
                          hint="point FRAUDRING_HOME at a folder (it is created if missing)"
                          ) from e
    except PermissionError as e:
        raise ConfigError(f"cannot use {path} as the embedded store's data folder: {e}",
                          hint="point FRAUDRING_HOME at a folder you own") from e


def tighten(home: Path) -> None:
    """Make files an older version left readable by others 0600 (a snapshot holds row data)."""
    for folder in (home, home / "db", home / "db" / "appendonlydir"):
        with contextlib.suppress(OSError):
            for entry in folder.iterdir():
                if entry.is_file() and not entry.is_symlink():
                    os.chmod(entry, 0o600)


def folder_password(home: Path) -> str:
    """The folder's password: generated once, kept so persisted data stays reachable."""
    secret = home / "password"
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(24))
    os.chmod(secret, 0o600)
    return secret.read_text().strip()
