"""The stand-in's HTTP side: HubSpot's CRM paths on 127.0.0.1, answering in HubSpot's wire format.

Point the official client at it with `HubSpot(access_token=hubspot.token, host=local.url)` (the
client copies every keyword onto each API's `Configuration`; `host` is the base URL).
Each request passes, in HubSpot's order: the token (401), ordered faults (down → 503, 429 storms,
5xx), the rate limits (429 + `X-HubSpot-RateLimit-*` headers; search: its own per-second limit, no
headers), the scopes (403 MISSING_SCOPES), then the call. A write ordered to lose its answer is
applied and then the connection is closed unanswered.
"""

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.localhubspot import routes
from bot.localhubspot.account import HubSpot
from bot.localhubspot.errors import ApiError


class LocalHubSpot:
    """The HTTP server around a `HubSpot` account. A context manager: `with LocalHubSpot(hs) as local:`."""

    def __init__(self, hubspot: HubSpot) -> None:
        self.hubspot = hubspot
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="hubspot-standin",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The API's base URL (HubSpot's is https://api.hubapi.com)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "LocalHubSpot":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LocalHubSpot":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hubspot = self.hubspot

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as HubSpot's API speaks it

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_PATCH(self) -> None:
                self._serve("PATCH")

            def do_PUT(self) -> None:
                self._serve("PUT")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed = urlparse(self.path)
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                status, headers, body, drop = answer(
                    hubspot, method, parsed.path, parse_qs(parsed.query), raw, token
                )
                if drop:  # the write happened; the client never hears of it
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if body is not None:
                    self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def answer(
    hubspot: HubSpot, method: str, path: str, query: dict[str, list[str]], raw: bytes, token: str
) -> tuple[int, dict[str, str], Any, bool]:
    """(status, headers, JSON body or None, drop the answer?) for one request."""
    if token != hubspot.token:
        error = ApiError(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
            "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        )
        return error.status, {}, error.body(), False
    headers: dict[str, str] = {}
    try:
        hubspot.faults().before()
        route = routes.find(method, path.rstrip("/") or "/")
        headers = hubspot.limits.admit(search=route is not None and route.search)
        if route is None:
            raise ApiError(404, "OBJECT_NOT_FOUND", f"No HubSpot API answers {method} {path}.")
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise ApiError(400, "VALIDATION_ERROR", f"Invalid input JSON on line 1: {exc}") from exc
        request = routes.Request(route.params, query, body)
        missing = sorted(s for s in route.scopes(request) if s not in hubspot.scopes)
        if missing:
            raise ApiError(
                403,
                "MISSING_SCOPES",
                "This app hasn't been granted all required scopes to make this call. Read more about "
                "required scopes here: https://developers.hubspot.com/scopes.",
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": missing},
                    }
                ],
                extra={"links": {"scopes": "https://developers.hubspot.com/scopes"}},
            )
        hubspot.requests += 1
        status, body = route.handler(hubspot, request)
        drop = route.write and status < 300 and hubspot.faults().drop_now(path)
        return status, headers, body, drop
    except ApiError as error:
        return error.status, {**headers, **error.headers}, error.body(), False
