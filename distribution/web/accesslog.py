"""An access log that records no personal data.

It replaces uvicorn's (turned off in `pressroom web`): that one logs the client address and
the full path with its query string. Here a request is logged by its route's pattern
("/u/{token}"), so neither tokens nor anything typed into a URL reaches the log, and
without the client address.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("pressroom.web.access")


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # if the app fails before it answers
        started = time.perf_counter()

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.0fms", scope["method"], route_pattern(scope), status,
                     elapsed_ms)


def route_pattern(scope: Scope) -> str:
    """The matched route's pattern; an unmatched path is not logged as typed."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "<unmatched>"
