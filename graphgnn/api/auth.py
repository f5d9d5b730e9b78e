"""Request authentication: the API token, and who may write.

The token travels in ``Authorization: Bearer <token>`` or ``X-Fraudring-Token: <token>``. It is
required whenever one is configured (and one must be configured when the server is bound beyond
loopback, see :meth:`ServeSettings.check`); on loopback without a token every local process may
call, as with the embedded store itself.
"""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request, status

from graphgnn.api.settings import ServeSettings

TOKEN_HEADER = "X-Fraudring-Token"


def presented_token(request: Request) -> str | None:
    """The token a request carries, if any."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return request.headers.get(TOKEN_HEADER) or None


async def require_token(request: Request) -> None:
    """FastAPI dependency: 401 unless the request may read.

    ``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in its thread
    pool, a thread hand-off per request for a few dictionary look-ups."""
    settings: ServeSettings = request.app.state.settings
    expected = settings.token
    if not expected:
        if settings.exposed:  # ServeSettings.check refuses this; never serve it anyway
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this server has no API token")
        return
    got = presented_token(request)
    # compare_digest: the time taken does not tell how much of a guess was right.
    if got is None or not hmac.compare_digest(got.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or wrong API token (send 'Authorization: Bearer <token>' or "
            f"'{TOKEN_HEADER}: <token>')",
            headers={"WWW-Authenticate": "Bearer"})


def require_writer(request: Request, _: None = Depends(require_token)) -> None:
    """FastAPI dependency: like :func:`require_token`, and 403 in read-only mode."""
    if request.app.state.settings.read_only:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "this server is read-only (started with --read-only)")
