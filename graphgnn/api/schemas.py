"""Request and response bodies of the scoring API, with the build's validation rules.

Identifiers follow :mod:`graph_build.value_checks` (no control characters, no whitespace at
either end: FalkorDB crashes on keys that differ only by trailing space); amounts and prices
have the build's bounds; times are ISO-8601 text or integer epoch milliseconds, within the
build's accepted window.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from graph_build import value_checks
from graph_build.validate import FUTURE_SLACK_MS, MIN_TIME_MS
from graphgnn.timeutil import now_ms

MAX_KEY_CHARS = 256
MAX_TEXT_CHARS = 512
MAX_ITEMS = 500
# The build's own patterns (value_checks): one definition of a valid key for both paths.
_KEY_BAD = re.compile(value_checks._KEY_CONTROL)  # noqa: SLF001
_EDGE = re.compile(value_checks._EDGE)  # noqa: SLF001
_TEXT_BAD = re.compile(value_checks._CONTROL)  # noqa: SLF001


def _key(value: str) -> str:
    if _KEY_BAD.search(value):
        raise ValueError("contains a control character (NUL, escape …): not allowed in a key")
    if _EDGE.search(value):
        raise ValueError("key has leading or trailing whitespace (keys are compared exactly)")
    return value


def _text(value: str) -> str:
    if _TEXT_BAD.search(value):
        raise ValueError("contains a control character (NUL, escape …): not allowed")
    return value


def _time(value: object) -> int:
    """ISO-8601 text or epoch ms -> epoch ms (UTC), in the build's accepted window."""
    if isinstance(value, bool):
        raise ValueError("not a time")
    if isinstance(value, int):
        ms = value
    elif isinstance(value, float) and value.is_integer():
        ms = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        ms = int(value.strip())
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not a time (ISO-8601 like 2026-03-01T12:00:00Z, or epoch ms)"
                             ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)  # as the build reads naive times: UTC
        ms = int(parsed.timestamp() * 1000)
    else:
        raise ValueError("not a time (ISO-8601 text or integer epoch ms)")
    top = now_ms() + FUTURE_SLACK_MS
    if not MIN_TIME_MS <= ms <= top:
        raise ValueError("time out of range (after 2000-01-01 and at most a year ahead)")
    return ms


Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY_CHARS), AfterValidator(_key)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS), AfterValidator(_text)]
Time = Annotated[int, BeforeValidator(_time)]
Amount = Annotated[float, Field(ge=0, le=value_checks.upper_bound("amount"),
                                allow_inf_nan=False)]
Price = Annotated[float, Field(ge=0, le=value_checks.upper_bound("price"),
                               allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Item(Strict):
    """One line of an order."""

    product_id: Key
    quantity: int = Field(1, ge=1, le=int(value_checks.upper_bound("quantity")))
    price: Price | None = None


class UserAttributes(Strict):
    """The user's own attributes (for a user the graph does not know yet)."""

    created_at: Time | None = None
    country: Text | None = None
    email_domain: Text | None = None


class OrderRequest(Strict):
    """An order at checkout. ``write`` merges it into the graph (by the build path) first."""

    order_id: Key
    user_id: Key
    created_at: Time
    amount: Amount
    status: Text | None = None
    device_id: Key | None = None
    ip: Key | None = None
    address_id: Key | None = None
    payment_id: Key | None = None
    items: list[Item] = Field(default_factory=list, max_length=MAX_ITEMS)
    user: UserAttributes | None = None
    as_of: Time | None = Field(None, description="score as of this time (default created_at)")
    write: bool = False


class UserRequest(Strict):
    """A user to score as of a time (default now); ``user`` attributes for a new one."""

    user_id: Key
    as_of: Time | None = None
    user: UserAttributes | None = None
    write: bool = False


Action = Literal["allow", "review", "block"]


class ScoreResponse(BaseModel):
    """A decision: the score, its percentile in the latest batch run, the action and why."""

    label: str
    key: str
    anomaly_score: float
    anomaly_pct: float | None
    action: Action
    reasons: list[str]
    ring_id: str | None
    model_version: str
    as_of: int
    known: bool = Field(description="the node was already in the graph")
    written: bool = False
    exact: bool = Field(True, description="the whole receptive field was read (no cap hit)")
    subgraph_nodes: int = 0
    path: Literal["cache", "fast", "exact"] = Field(
        "exact", description="cache: the batch state's own score; fast: a new order on the "
        "cached state; exact: the receptive field read from the store")
    user: ScoreResponse | None = None
    timing_ms: dict[str, float] = Field(default_factory=dict)
