"""The life lock of an embedded server: one server per data folder, as a fact.

Why a lock held by the server process itself: ``server.json``, the socket file and a PING are all
evidence that can be missing or wrong (a corrupt file, a SIGSTOPped server, a command killed
while starting one) and each once led to a second server on the same folder, which then
overwrote the first one's data. An ``flock`` lives exactly as long as the open file description
holding it: the starting command takes the lock, the redis-server it spawns inherits that
descriptor (``pass_fds``) and the starter closes its copy, so the lock is held for as long as the
server process lives and released by the kernel when it dies, however it dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Holder:
    """Who holds a folder's life lock: the server's pid and how to reach it (no password)."""

    pid: int | None
    unix_socket: str | None = None
    port: int | None = None


def pid_alive(pid: int) -> bool:
    """True while ``pid`` is a live (not zombie) process."""
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


def _proc_cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def serves_folder(pid: int, home: Path) -> bool:
    """True when ``pid`` is alive and works in ``home`` (redis-server moves to ``home/db``).

    Ownership by pid *and* folder: a pid from a stale file may by now belong to anything.
    """
    return pid_alive(pid) and _proc_cwd(pid) in (home, home / "db")


def pids_holding(path: Path) -> list[int]:
    """Processes with ``path`` open (scan of /proc; used only when the lock file's text is lost)."""
    target = str(path)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        found.append(int(entry.name))
                        break
    return found


class LifeLock:
    """The lock file ``server.pid`` of one data folder; its text names the holder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def try_acquire(self) -> int | None:
        """An open descriptor holding the lock, or None when a live server holds it.

        The caller passes the descriptor to the server it spawns, or closes it.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def is_held(self) -> bool:
        """True while a server process holds the lock."""
        fd = self.try_acquire()
        if fd is None:
            return True
        os.close(fd)
        return False

    @staticmethod
    def record(fd: int, holder: Holder) -> None:
        """Write who holds the lock into the locked file (through the holding descriptor)."""
        data = json.dumps({"pid": holder.pid, "unix_socket": holder.unix_socket,
                           "port": holder.port}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)

    def holder(self) -> Holder:
        """Who holds the lock, from its text, else from /proc (pid only), else pid None."""
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            data = json.loads(self.path.read_text())
            pid = int(data["pid"])
            if pid_alive(pid):
                return Holder(pid, data.get("unix_socket"), data.get("port"))
        pids = pids_holding(self.path)
        return Holder(pids[0] if pids else None)
