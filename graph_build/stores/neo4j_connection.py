"""The Neo4j store's connection details: URIs without secrets, quiet driver settings, and the
wording of what went wrong (server status codes, TLS hints) — nothing here talks to a server.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit


def redact(uri: str) -> str:
    """``uri`` without user, password or query string (for messages and ``location``)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<invalid URI>"
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def split_userinfo(uri: str) -> tuple[str, str | None, str | None]:
    """Take ``user:password@`` out of ``uri`` (routing drivers reject it): (uri, user, password)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri, None, None
    if "@" not in parts.netloc:
        return uri, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, unquote(user) or None, unquote(password) if sep else None


def describe_error(e: BaseException) -> str:
    """One line for a driver exception: the server's status code and message when it sent one,
    else the driver's own text (a client-side failure: unreachable, bad URI, …)."""
    code = getattr(e, "code", None)
    text = f"{code}: {getattr(e, 'message', '')}" if code else str(e)
    text = " ".join(text.split()) or type(e).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def quiet_notifications() -> dict[str, Any]:
    """Driver settings that keep server notifications off the terminal.

    Why: every command printed 1-24 notifications of ~700 characters (``01N52 … property key
    does not exist`` on a graph without scores yet), burying the one line that mattered.
    ``FRAUDRING_NEO4J_NOTIFICATIONS=WARNING`` (or INFORMATION) brings them back.
    """
    level = os.environ.get("FRAUDRING_NEO4J_NOTIFICATIONS", "OFF").strip().upper() or "OFF"
    return {"notifications_min_severity": level}


def quiet_driver_logging() -> None:
    """Route the driver's log records away from stderr (errors still raise with a message).

    Without a handler, Python prints the driver's warnings ("Unable to retrieve routing
    information", "Transaction failed and will be retried") before the real error.
    """
    import logging

    logger = logging.getLogger("neo4j")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def reach_hint(uri: str, e: BaseException) -> str:
    """What to check when a server cannot be reached; TLS when the scheme or error says so."""
    scheme = uri.split("://", 1)[0].lower()
    text = f"{e} {e.__cause__ or ''}".lower()
    if scheme.endswith(("+s", "+ssc")):
        return (f"{scheme}:// asks for TLS: if the server does not offer TLS, use "
                f"{scheme.split('+')[0]}:// instead (or enable TLS on the server)")
    if "ssl" in text or "tls" in text:
        return f"the server may require TLS: try {scheme}+s://"
    return ("is the server running and the address right? (`docker compose up -d` starts "
            "one; for Aura use the neo4j+s:// URI it gave you)")
