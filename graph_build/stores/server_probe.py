"""How to reach a running embedded server, and whether it answers (ready, loading, down)."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass


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


def free_port() -> int:
    """A loopback TCP port free right now (for a server whose socket path would be too long)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connect(info: ServerInfo, timeout: float):
    """A plain redis client of the server (for PING, INFO and config; not for queries).

    One try per command: redis-py 8 retries a timed-out command 10 times with a growing
    backoff by default, which made a 1 s probe of a hung server take about 10 s.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    once = {"socket_timeout": timeout, "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0), "password": info.password}
    if info.unix_socket:
        return redis.Redis(unix_socket_path=info.unix_socket, **once)
    return redis.Redis(host="127.0.0.1", port=info.port, **once)


def probe(info: ServerInfo, timeout: float = 1.0) -> str:
    """``"ready"``, ``"loading"`` (replaying its data from disk) or ``"down"``."""
    import redis

    try:
        with contextlib.closing(connect(info, timeout)) as client:
            return "ready" if client.ping() else "down"
    except redis.exceptions.BusyLoadingError:
        return "loading"
    except (redis.exceptions.RedisError, OSError):
        return "down"


def ping(info: ServerInfo, timeout: float = 1.0) -> bool:
    """True when the server answers and is ready for statements."""
    return probe(info, timeout) == "ready"
