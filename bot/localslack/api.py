"""A stand-in for Slack's Web API on 127.0.0.1, for the try-out and the tests.

It answers the methods Baton calls with bodies shaped like Slack's, records every call, can be told
to fail (429 with Retry-After, 500, an error body) or to lose its answer after doing the work (drop
the connection, or answer after the client gave up), keeps message metadata and returns it from
`conversations.history`, and checks Baton keeps Slack's contract: a text fallback beside blocks,
block counts within limits, no `<!channel>`-style mentions, triggers used once. Every message it
accepts lands in a per-person view of "what this person sees".

This module is the HTTP front and the test controls; the methods live one Web API family per
module (chat.py, conversations.py, users.py, files.py, views.py, respond.py for response_url), on
the shared state and message checks in core.py, so each reads like that part of Slack's reference.
"""

import contextlib
import json
import select
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from bot.localslack.chat import ChatMethods
from bot.localslack.conversations import ConversationsMethods
from bot.localslack.files import FilesMethods
from bot.localslack.model import (
    Call,
    Fault,
    LostAnswer,
    Shown,
    UploadedFile,
    User,
    Workspace,
    iter_elements,
)
from bot.localslack.oauth import OAuthMethods
from bot.localslack.respond import ResponseUrls
from bot.localslack.scopes import needed
from bot.localslack.users import UsersMethods
from bot.localslack.views import ViewsMethods

__all__ = ["Call", "Shown", "SlackApi", "UploadedFile", "User", "Workspace", "iter_elements"]


class SlackApi(
    ChatMethods, ConversationsMethods, UsersMethods, FilesMethods, ViewsMethods, ResponseUrls, OAuthMethods
):
    """The Web API stand-in. `start()` it, point `WebClient(base_url=api.url)` at it, read `calls`."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        token: str | None = None,
        files_dir: Path | None = None,
        scopes: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`scopes`: what the workspace granted (manifest.yml's by default); `clock`: Slack's time."""
        super().__init__(workspace, token=token, files_dir=files_dir, scopes=scopes, clock=clock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval lets stop() return quickly (the default waits up to half a second).
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-api-standin",
            daemon=True,
        )

    # ---- lifecycle -----------------------------------------------------------------------------
    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The `base_url` for `WebClient`."""
        return self.base + "/api/"

    def start(self) -> "SlackApi":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---- test controls -------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
        team: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail the way Slack fails (with `team`: only
        calls made with that workspace's token)."""
        with self._lock:
            self._faults.append(
                Fault(method, status, error, retry_after if status == 429 else None, times, team)
            )

    def lose_answer(self, method: str, *, how: str = "drop", times: int = 1, team: str | None = None) -> None:
        """Do the next `times` calls of `method`, then lose the answer: "drop" the connection at
        once, or answer "late" (once the client has hung up), as a lost packet or a slow Slack would.
        `method` "response_url" loses the answers to response_url posts."""
        if how not in ("drop", "late"):
            raise ValueError(f"how must be 'drop' or 'late', not {how!r}")
        with self._lock:
            self._lost.append(LostAnswer(method, how, times, team))

    def _losing(self, method: str) -> str | None:
        team = getattr(self._speaking, "team", None)  # the workspace of the call just answered here
        with self._lock:
            lost = next(
                (x for x in self._lost if x.method == method and x.times > 0 and x.team in (None, team)),
                None,
            )
            if lost is None:
                return None
            lost.times -= 1
            return lost.how

    def add_user(self, user: User) -> None:
        self.workspace.users[user.id] = user

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> bool:
        """Wait until `count` calls of `method` have arrived (for an app in another process)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.calls_to(method)) >= count, timeout=timeout)

    def wait_for_shown(self, wanted: Callable[[Shown], bool], timeout: float = 30.0) -> bool:
        """Wait until a message `wanted` is shown to someone."""
        with self._arrived:
            return self._arrived.wait_for(lambda: any(wanted(m) for m in self.shown), timeout=timeout)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def seen_by(self, user_id: str) -> list[Shown]:
        """Messages this person can see, oldest first (ephemeral ones only they see, plus channel posts)."""
        with self._lock:
            return [m for m in self.shown if m.user_id in (None, user_id)]

    def mark_seen(self) -> int:
        """A bookmark: `since(bookmark)` lists what arrived or changed after it."""
        with self._lock:
            return len(self.calls)

    def since(self, bookmark: int) -> list[Call]:
        with self._lock:
            return self.calls[bookmark:]

    # ---- the server ------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                api._speaking.team = None  # set again by the call this request makes, if any
                parsed = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if parsed.path.startswith("/upload/"):  # files_upload_v2's step 2: the bytes, as sent
                    status, answer = api._receive_upload(parsed.path.rsplit("/", 1)[-1], raw)
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                if parsed.path == "/oauth/v2/authorize":  # a browser, not the Web API
                    status, headers, _ = api._authorize_page(parsed.query)
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                args: dict[str, Any] = dict(parse_qsl(parsed.query))
                kind = self.headers.get("Content-Type") or ""
                if raw and "json" in kind:
                    args.update(json.loads(raw))
                elif raw:
                    args.update(dict(parse_qsl(raw.decode())))
                if parsed.path.startswith("/respond/"):
                    status, headers, body = api._respond(parsed.path.rsplit("/", 1)[-1], args)
                elif parsed.path.startswith("/api/"):
                    auth = self.headers.get("Authorization") or ""
                    method = parsed.path[len("/api/") :]
                    if method == "oauth.v2.access":  # the app's credentials, not a token
                        with api._lock:
                            body = api._oauth_v2_access(args, auth)
                            api._record(Call(method, args, 200, body))
                        status, headers = 200, {}
                    else:
                        token = auth.removeprefix("Bearer ").strip() or args.pop("token", "")
                        status, headers, body = api._api(method, args, token)
                else:
                    status, headers, body = 404, {}, {"ok": False, "error": "not_found"}
                method = "response_url" if parsed.path.startswith("/respond/") else parsed.path[5:]
                how = api._losing(method) if status == 200 else None
                if how == "drop":
                    self.close_connection = True
                    return  # the work is done; the client never hears of it
                if how == "late":
                    # Answer only once the client has hung up (its socket reads as closed): the
                    # answer arrives after its timeout, as Slack's does when it is slow.
                    select.select([self.connection], [], [], 120)
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _api(
        self, method: str, args: dict[str, Any], token: str
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            refusal, workspace, granted = self._token_refusal(token)
            if refusal is None and workspace is None and self.token is None and self._oauth_state().apps:
                refusal = "invalid_auth"  # with OAuth installs, only a token Slack issued works
            self._speaking.workspace = workspace
            try:
                return self._answer(method, args, token, refusal, granted)
            finally:
                self._speaking.workspace = None

    def _answer(
        self,
        method: str,
        args: dict[str, Any],
        token: str,
        refusal: str | None,
        granted: frozenset[str] | None,
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            team = self._speaking.team = self.workspace.team_id
            for key in ("blocks", "view", "attachments", "metadata"):
                if isinstance(args.get(key), str):
                    with contextlib.suppress(ValueError):
                        args[key] = json.loads(args[key])
            fault = next(
                (f for f in self._faults if f.method == method and f.times > 0 and f.team in (None, team)),
                None,
            )
            if fault is not None and refusal is None:
                fault.times -= 1
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                body = {"ok": False, "error": fault.error}
                self._record(Call(method, args, fault.status, body, team))
                return fault.status, headers, body
            channel = str(args.get("channel") or "")
            scopes = needed(
                method,
                args,
                self.workspace.private_channels,
                self._resolve_channel(channel) if channel else "",
            )
            allowed = self.scopes if granted is None else granted
            if refusal is not None:
                body = {"ok": False, "error": refusal}
            elif granted is None and self.token is not None and token != self.token:
                body = {"ok": False, "error": "invalid_auth"}
            elif scopes and not allowed.intersection(scopes):
                # Slack's answer when the app wasn't granted the scope: HTTP 200, ok false.
                self.problems.append(
                    f"{method} needs {' or '.join(scopes)}, which manifest.yml doesn't ask for"
                )
                body = {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": ",".join(scopes),
                    "provided": ",".join(sorted(allowed)),
                }
            elif method == "conversations.history" and (wait := self._history_wait(args)) is not None:
                body = {"ok": False, "error": "ratelimited"}
                self._record(Call(method, args, 429, body, team))
                return 429, {"Retry-After": str(wait)}, body
            else:
                handler = getattr(self, "_" + method.replace(".", "_"), None)
                if method == "auth.revoke":  # the only method about the token itself
                    body = self._auth_revoke(token, args)
                elif handler is None:
                    self.problems.append(f"called {method}, which the stand-in doesn't know")
                    body = {"ok": False, "error": "unknown_method"}
                else:
                    body = handler(args)
            self._record(Call(method, args, 200, body, team))
            return 200, {}, body
