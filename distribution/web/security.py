"""CSRF tokens for the forms, a per-client rate limit, and the security headers.

CSRF is a signed double submit: a random value in a cookie, and in the form that value
signed (itsdangerous, salt "csrf", timed). A forged POST from another site can make the
browser send the cookie but cannot read it to build the matching field; an attacker who can
plant a cookie (a sibling subdomain) still cannot sign a field for it, and the cookie is
one the server made and signed, so a planted value is replaced rather than signed into the
form. A POST the browser marks cross-site (Sec-Fetch-Site, Origin) is refused whatever it
carries. No server-side session is needed. The RFC 8058 one-click unsubscribe deliberately
takes no CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from config import Settings

CSRF_COOKIE = "pressroom_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_SECONDS = 4 * 3600  # a form left open over lunch still submits

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


class Csrf:
    def __init__(self, settings: Settings) -> None:
        keys = list(reversed(settings.verify_keys))  # sign with the newest, verify with all
        self._serializer = URLSafeTimedSerializer(keys, salt="csrf")
        # The cookie itself is made and signed here: a value the browser brings that we did
        # not make (planted from a sibling subdomain) is replaced, never signed into a form.
        self._cookies = URLSafeSerializer(keys, salt="csrf-cookie")
        self._origins = {_origin(settings.base_url)}

    def issue(self, request: Request) -> tuple[str, str | None]:
        """(form field value, new cookie value or None when the browser's cookie is kept)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not self._ours(cookie):
            cookie = fresh = self._cookies.dumps(secrets.token_urlsafe(18))
        return self._serializer.dumps(cookie), fresh

    def set_cookie(self, response: Response, value: str | None, request: Request) -> None:
        if value is None:
            return
        response.set_cookie(CSRF_COOKIE, value, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https")

    def valid(self, request: Request, submitted: object) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE)
        if not self._ours(cookie) or not isinstance(submitted, str):
            return False
        if not self._same_origin(request):
            return False
        try:
            signed = self._serializer.loads(submitted, max_age=CSRF_MAX_AGE_SECONDS)
        except BadData:
            return False
        return isinstance(signed, str) and hmac.compare_digest(signed, cookie or "")

    def _ours(self, cookie: str | None) -> bool:
        if not cookie or len(cookie) > 200:
            return False
        try:
            self._cookies.loads(cookie)
        except BadData:
            return False
        return True

    def _same_origin(self, request: Request) -> bool:
        """What the browser says of the form's origin, where it says it: a cross-site or
        sibling-site POST is refused whatever it carries. Fetch metadata first: under our
        no-referrer policy a browser sends "Origin: null" even for our own forms."""
        site = request.headers.get("sec-fetch-site")
        if site is not None:
            return site in ("same-origin", "none")
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return True  # older browsers and non-browser clients: the token decides
        return origin in self._origins or origin == _origin(str(request.base_url))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{(parts.hostname or '').lower()}{port}"


class RateLimiter:
    """At most `limit` events per `window_seconds` per key (a sliding log, in memory).

    Per process: behind several web processes the effective limit is multiplied by their
    number. Stale keys are dropped when the table grows, so memory stays bounded.
    """

    def __init__(self, limit: int, window_seconds: float,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False when it is over the limit (not counted then)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > self._max_keys:
                self._forget_stale(now)
            return True

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again."""
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return 0
            return max(1, int(hits[0] + self.window - self._clock()) + 1)

    def _forget_stale(self, now: float) -> None:
        stale = [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]


class SecurityHeaders:
    """Adds the CSP, frame, referrer and sniffing headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CanonicalSlashes:
    """"/releases/" redirects to "/releases" at the public address (base_url), never at
    whatever Host the request named: Starlette's own redirect echoes the Host header, so a
    forged one made a link to another site."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.base = base_url.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/" or not path.endswith("/"):
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = self.base + "/" + path.strip("/") + (f"?{query}" if query else "")
        if path.strip("/") == "" or "//" in path:
            target = self.base + "/"
        await RedirectResponse(target, status_code=307)(scope, receive, send)


def client_ip(request: Request) -> str:
    """The peer address (uvicorn applies X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else "unknown"
