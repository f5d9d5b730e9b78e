"""What ``fraudring serve`` is configured with: store, checkpoint, binding, token, thresholds."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_build.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Largest request body accepted (bytes): an order with a couple of hundred items fits easily.
DEFAULT_MAX_BODY = 64 * 1024


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name we cannot vouch for: treat as exposed


class ActionThresholds(BaseModel):
    """Which decision a score gets: ``block`` at or above ``block``, ``review`` at or above
    ``review``, else ``allow``.

    ``by="pct"`` compares the score's percentile within its label in the latest batch run
    (0-100; robust to a retrained model's shifted scale); ``by="score"`` compares
    ``anomaly_score`` itself (0-1).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: Literal["pct", "score"] = "pct"
    review: float = Field(95.0, ge=0)
    block: float = Field(99.5, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ActionThresholds:
        top = 100.0 if self.by == "pct" else 1.0
        if not self.review <= self.block <= top:
            raise ValueError(f"need review <= block <= {top:g} (by={self.by}), "
                             f"got review={self.review:g}, block={self.block:g}")
        return self

    def action(self, score: float, pct: float) -> str:
        """``allow``, ``review`` or ``block`` for one scored node."""
        value = pct if self.by == "pct" else score
        if value >= self.block:
            return "block"
        if value >= self.review:
            return "review"
        return "allow"


class ServeSettings(BaseModel):
    """Configuration of one ``fraudring serve`` process.

    Attributes:
        store: ``embedded`` / a Neo4j URI / None (``NEO4J_URI`` when set, else embedded).
        store_home: data folder of the embedded store (default ``FRAUDRING_HOME``).
        ckpt: the training checkpoint to score with (loaded once at startup).
        host, port: where uvicorn binds (loopback by default).
        token: API token; required for every request when set, and mandatory when ``host``
            is not a loopback address.
        read_only: refuse requests that write (``"write": true``) with 403.
        thresholds: the allow / review / block cut-offs.
        max_body_bytes: larger request bodies get 413.
        max_nodes: a neighbourhood fetch stops growing past this many nodes (the answer is
            then marked ``exact: false``).
        max_degree: edges read per node and relationship type (hubs: the newest ones).
        retry_after_s: the ``Retry-After`` of a 503 when the store is down.
        refresh_s: how often the batch score distribution is checked for a newer run.
        while_warming: until the serving cache holds its first batch state, answer by the
            ``exact`` (slow) path, or 503 with ``Retry-After`` (``unavailable``).
        liveness_s: answers from the serving cache ask the store whether it answers at most
            this often (a store that went down is a 503 within this time; 0: every answer
            asks).
    """

    model_config = ConfigDict(extra="forbid")

    store: str | None = None
    store_home: Path | None = None
    ckpt: Path | None = None
    host: str = DEFAULT_HOST
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)
    token: str | None = Field(None, repr=False)
    read_only: bool = False
    thresholds: ActionThresholds = ActionThresholds()
    max_body_bytes: int = Field(DEFAULT_MAX_BODY, ge=1024)
    max_nodes: int = Field(20_000, ge=10)
    max_degree: int = Field(5_000, ge=1)
    retry_after_s: int = Field(5, ge=1)
    refresh_s: float = Field(30.0, ge=0)
    while_warming: Literal["exact", "unavailable"] = "exact"
    liveness_s: float = Field(0.1, ge=0)

    @property
    def exposed(self) -> bool:
        return not is_loopback(self.host)

    def check(self) -> ServeSettings:
        """Raise :class:`ConfigError` for a setting that would be unsafe to serve with."""
        if self.token is not None and len(self.token) < 16:
            raise ConfigError("the API token is shorter than 16 characters",
                              hint="generate one: python -c 'import secrets; "
                                   "print(secrets.token_urlsafe(32))' > token.txt")
        if self.exposed and not self.token:
            raise ConfigError(
                f"--host {self.host} accepts connections from other machines, but no API "
                "token is set", hint="pass --token-file FILE (or bind to 127.0.0.1)")
        return self
