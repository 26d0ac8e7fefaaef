"""A Qdrant server that cannot be reached becomes one line naming QDRANT_URL, not a traceback."""

from __future__ import annotations

import os

SERVER_VERSION_WARNING = "Failed to obtain server version"
"""qdrant-client warns with this when the server is down; the error that follows says it all."""


def unreachable_server(exc: BaseException) -> str | None:
    """The one-line message for a failed connection to $QDRANT_URL, or None for other errors."""
    url = os.environ.get("QDRANT_URL")
    if not url:
        return None
    import httpx
    from qdrant_client.http.exceptions import ResponseHandlingException

    error: BaseException | None = exc
    while error is not None:
        if isinstance(error, (ResponseHandlingException, httpx.TransportError, ConnectionError)):
            return (
                f"cannot reach the Qdrant server at QDRANT_URL={url} ({exc}); start it, fix "
                "QDRANT_URL, or unset it to use local mode (index.qdrant_path)"
            )
        error = error.__cause__ or error.__context__
    return None
