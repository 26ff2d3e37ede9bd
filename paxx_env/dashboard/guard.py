"""Who may talk to the dashboard: this machine, with the token, from the dashboard's own page.

Every request needs the Host the server listens on (so a DNS-rebinding page gets nothing)
and the random token from the URL `paxx dashboard` printed (a query parameter, or the
X-Paxx-Token header the page's own requests carry). A POST also needs the page's own Origin:
a page on another site, or on another port of this machine, cannot press the buttons. There
are no CORS headers, so no other origin can read an answer.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Sent with every answer: nothing cached, framed, sniffed, leaked in a Referer (the page's
#: URL holds the token) or loaded from anywhere but the dashboard itself.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
TOKEN_HEADER = "X-Paxx-Token"
NO_TOKEN = (
    "paxx: error: this dashboard needs its token\n"
    "  fix: open the URL `paxx dashboard` printed (it ends in ?token=...)\n"
)


class Guard:
    """ASGI middleware: refuse what does not come from the dashboard's own page."""

    def __init__(self, app: ASGIApp, token: str, port: int) -> None:
        self.app = app
        self.token = token
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.origins = {f"http://{host}" for host in self.hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a refusal, or pass the request on with the security headers added."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            status, text = refusal
            response = PlainTextResponse(text, status_code=status, headers=SECURITY_HEADERS)
            await response(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_secured)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, text) when the request is refused, else None."""
        headers = Headers(scope=scope)
        if headers.get("host", "") not in self.hosts:
            return 421, "paxx: error: unexpected Host header\n"
        supplied = headers.get(TOKEN_HEADER) or QueryParams(scope["query_string"]).get("token")
        if not hmac.compare_digest((supplied or "").encode(), self.token.encode()):
            return 403, NO_TOKEN
        method = scope["method"]
        if method in {"GET", "HEAD"}:
            return None
        if method != "POST":
            return 405, "paxx: error: only GET and POST are answered\n"
        if headers.get("origin") not in self.origins or headers.get("sec-fetch-site") not in {
            None,
            "same-origin",
        }:
            return 403, "paxx: error: a request from another site was refused\n"
        return None
