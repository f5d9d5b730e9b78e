"""The redis-server configuration of the embedded store, written to a file only its owner reads.

Why a file: arguments on the command line (``--requirepass …``) are readable by every local user
in ``/proc/<pid>/cmdline``; a 0600 file in a 0700 folder is not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: ``always``: redis fsyncs the append-only file before it answers a write, so every
#: acknowledged write (a verdict, a finished build) survives a crash of the server *and* of the
#: machine. ``everysec`` would lose up to a second (or two, while an fsync stalls) on a power
#: loss. Measured here (100k generated users: 832k nodes, 2.7M rows; one run, shared 2-core
#: machine): build 78.3 s with ``always`` vs 77.0 s with ``everysec`` (+2 %: a build batches
#: 10k rows a statement, so fsyncs are few); one verdict write 2.25 ms vs 0.53 ms (one fsync
#: each); restart after the build 2.4 s (it loads the snapshot base). At 20k users: build
#: 8.4 s vs 8.1 s, verdict 0.25 ms vs 0.12 ms, restart 0.36 s. Re-measured with
#: ``experiments/bench_durability.py`` (20k users, the settings alternating, medians of 2
#: rounds) while other jobs loaded the machine: build ×1.43 (20.8 s vs 14.5 s), verdict
#: 3.96 ms vs 0.12 ms, restart ×0.92 (1.34 s vs 1.45 s): an fsync waits for the disk, which
#: costs most when other processes write too. Restart does not depend on the setting.
#: ``FRAUDRING_APPENDFSYNC=everysec`` trades that safety for speed, explicitly.
DEFAULT_APPENDFSYNC = "always"
APPENDFSYNC_CHOICES = ("always", "everysec")


@dataclass(frozen=True)
class ServerConfig:
    """What a server of one data folder is started with."""

    module: str
    db_dir: Path
    log_file: Path
    password: str
    unix_socket: Path | None
    port: int
    appendfsync: str = DEFAULT_APPENDFSYNC
    #: False only to load a snapshot-only folder of an older version once (see migrate_to_aof).
    appendonly: bool = True


def _quote(value: str | Path) -> str:
    """A redis config string: double-quoted, with backslash and quote escaped."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render(config: ServerConfig) -> str:
    """The text of the config file."""
    lines = [
        f"loadmodule {_quote(config.module)}",
        f"dir {_quote(config.db_dir)}",
        "bind 127.0.0.1",
        f"port {config.port}",
        f"requirepass {_quote(config.password)}",
        # Durability of every acknowledged write: an append-only file whose base is an RDB
        # snapshot (aof-use-rdb-preamble), rewritten automatically when it doubles, so a
        # restart loads the snapshot and replays only the short tail of statements after it
        # (replaying a long log of MERGE statements is slow: minutes for 20k users).
        f"appendonly {'yes' if config.appendonly else 'no'}",
        "aof-use-rdb-preamble yes",
        f"appendfsync {config.appendfsync}",
        "auto-aof-rewrite-percentage 100",
        "auto-aof-rewrite-min-size 32mb",
        # A truncated last command (a crash mid-write) is dropped at load, not fatal; it was
        # never acknowledged.
        "aof-load-truncated yes",
        # No separate RDB snapshots: the AOF base is the snapshot; a second one only forks and
        # competes with a build for the CPU.
        'save ""',
        "protected-mode yes",
        "daemonize no",
        f"logfile {_quote(config.log_file)}",
    ]
    if config.unix_socket is not None:
        lines += [f"unixsocket {_quote(config.unix_socket)}", "unixsocketperm 700"]
    return "\n".join(lines) + "\n"


def write(path: Path, config: ServerConfig) -> None:
    """Write the config file with mode 0600 (replacing any previous one atomically)."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(render(config))
    tmp.replace(path)


def appendfsync_from_env() -> str:
    """``FRAUDRING_APPENDFSYNC`` (``always`` by default, or ``everysec``)."""
    from graph_build.errors import ConfigError

    value = os.environ.get("FRAUDRING_APPENDFSYNC", "").strip() or DEFAULT_APPENDFSYNC
    if value not in APPENDFSYNC_CHOICES:
        raise ConfigError(f"FRAUDRING_APPENDFSYNC must be one of {APPENDFSYNC_CHOICES}, "
                          f"not {value!r}")
    return value


def needs_migration(db_dir: Path) -> bool:
    """True for a folder written by an older version: a snapshot and no append-only file.

    Started with ``appendonly yes``, redis would load the (absent) append-only file and ignore
    the snapshot: an empty graph, then the snapshot overwritten.
    """
    return (db_dir / "dump.rdb").exists() and not (db_dir / "appendonlydir").exists()


def migrate_to_aof(client, timeout: float = 1800.0) -> None:
    """Switch a server started on a snapshot to the append-only file, durably.

    ``CONFIG SET appendonly yes`` writes an append-only file from the loaded data (a rewrite);
    returns when that file is complete.
    """
    client.config_set("appendonly", "yes")
    wait_for_rewrite(client, timeout)


def rewrite_aof(client, timeout: float = 1800.0) -> None:
    """Rewrite the append-only file into a snapshot base and wait for it (restart = a load)."""
    import redis

    try:
        client.bgrewriteaof()
    except redis.exceptions.ResponseError as e:  # one already running: wait for that one
        if "already in progress" not in str(e):
            raise
    wait_for_rewrite(client, timeout)


def wait_for_rewrite(client, timeout: float = 1800.0) -> None:
    """Return once no append-only rewrite is running or scheduled."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if (info.get("aof_enabled") and not info.get("aof_rewrite_in_progress")
                and not info.get("aof_rewrite_scheduled")):
            return
        time.sleep(0.05)
    raise TimeoutError("the append-only file was not written in time")
