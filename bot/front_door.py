"""The front door: every HTTP request is sized, signed and read here before Bolt sees it.

Bolt's WSGI adapter reads whatever body it is sent, verifies it in a middleware that logs the
whole body when the signature is wrong, raises (a 500 and a traceback) on a timestamp that is not
a whole number or a `payload=` that is not JSON, and reads any form containing the text `payload`
as a button click, so `/logcall Specs Inc email sent the payload specs` came out empty (a 404).
Here, in order, each check cheaper than the next:

1. size: a declared body over `MAX_BODY` is refused (413) without reading it, and a chunked one is
   read only up to the limit;
2. signature: the raw bytes against `X-Slack-Signature` (401), before anything is parsed, so an
   unsigned request costs one HMAC and is never parsed or logged;
3. reading: JSON, an interaction's `payload` field, or a command's form (400 if malformed);
4. Bolt: `app.dispatch` on a `SlackRequest`, which reads bodies this way again when Bolt copies
   the request for a lazy listener;
5. the answer: the work Bolt started for the request (its lazy listeners) is held until the
   server has sent the acknowledgement (`hold`): started at once, it took the interpreter and a
   core from the thread writing the acknowledgement.

No body, and no part of one, is ever written to the log.

With OAuth installs, two pages are let through unsigned, and only as GET: the install link
(/slack/install) and Slack's redirect back (/slack/oauth_redirect). A browser, not Slack, asks for
them; Bolt's OAuth flow answers, and checks the state it issued instead of a signature.
"""

import copy
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.oauth import OAuthFlow
from slack_bolt.request.internals import build_context

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
EVENTS_PATH = "/slack/events"

# Slack's largest payloads are interactions that carry a whole view or message back: at most 100
# blocks (a modal or the Home tab), and Baton's blocks hold a line or two each, JSON-escaped and
# form-encoded. 1 MiB is far above that and still refuses anything meant to exhaust memory.
MAX_BODY = 1024 * 1024
# Slack signs with whole seconds since the epoch; anything else is not from Slack.
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class Refused(Exception):
    """A request answered with a 4xx before it reaches Bolt."""

    def __init__(self, status: HTTPStatus, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def read_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """What Slack sent: an Events API JSON body, an interaction's `payload`, or a command's form.

    An interaction is a form whose one field is `payload`; a slash command's form always has
    `command`, so words in its text (a lead called "payload systems") never make it a click.
    """
    if not raw:
        return {}
    if content_type == "application/json" or raw.startswith("{"):
        return _json_object(raw)
    form = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in form and "command" not in form:
        return _json_object(form["payload"])
    return form


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise Refused(HTTPStatus.BAD_REQUEST, "the body is not valid JSON") from error
    if not isinstance(value, dict):
        raise Refused(HTTPStatus.BAD_REQUEST, "the body is not a JSON object")
    return value


class SlackRequest(BoltRequest):
    """A BoltRequest whose body is read by `read_body` instead of Bolt's parser.

    Bolt copies a request for each lazy listener by building it again from the raw body
    (`to_copyable`), so the copy must read it the same way.
    """

    def __init__(
        self,
        *,
        body: str,
        query: str | dict[str, Sequence[str]] | None = None,
        headers: dict[str, str | Sequence[str]] | dict[str, Sequence[str]] | None = None,
        context: dict[str, Any] | None = None,
        mode: str = "http",
    ) -> None:
        super().__init__(body="", query=query, headers=headers, context=context, mode=mode)
        self.raw_body = body
        self.body = read_body(body, self.content_type)
        self.context = build_context(BoltContext(context or {}), self.body)

    def __deepcopy__(self, memo: dict[int, Any]) -> "SlackRequest":
        """Bolt copies a request for each lazy listener as `deepcopy(request.to_copyable())`. A
        copyable request is new already (its body read again, its context's own values copied),
        so only what it still shares is copied here; copying it whole again walked the Web API
        client and the logger, a third of a millisecond on every acknowledgement (issue 19)."""
        return SlackRequest(
            body=self.raw_body,
            query=copy.deepcopy(self.query, memo),
            headers=copy.deepcopy(self.headers, memo),
            context=self.context.to_copyable(),
            mode=self.mode,
        )

    def to_copyable(self) -> "SlackRequest":
        return SlackRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


class FrontDoor:
    """The WSGI application: Bolt at POST /slack/events, GET /healthz, and (with OAuth installs)
    GET /slack/install and /slack/oauth_redirect."""

    def __init__(
        self,
        app: App,
        *,
        signing_secret: str,
        healthy: Callable[[], bool] = lambda: True,
        max_body: int = MAX_BODY,
        clock: Callable[[], float] = time.time,
        hold: "Callable[[], AbstractContextManager[Releasable | None]]" = nullcontext,
    ) -> None:
        self.clock = clock
        self.hold = hold
        self.app = app
        if not signing_secret:
            raise ValueError("serving Slack over HTTP needs the signing secret")
        self.secret = signing_secret.encode()
        self.healthy = healthy
        self.max_body = max_body
        self.oauth: OAuthFlow | None = app.oauth_flow

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok = self.healthy()
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            return _answer(start_response, status, {"ok": ok}, environ)
        if self.oauth is not None and path in (self.oauth.install_path, self.oauth.redirect_uri_path):
            if method != "GET":
                return _answer(start_response, HTTPStatus.METHOD_NOT_ALLOWED, {"error": "GET only"}, environ)
            return self._install(path, environ, start_response)
        if path != EVENTS_PATH:
            return _answer(start_response, HTTPStatus.NOT_FOUND, {"error": "not found"}, environ)
        if method != "POST":
            return _answer(start_response, HTTPStatus.METHOD_NOT_ALLOWED, {"error": "POST only"}, environ)
        try:
            request = self.admit(environ)
        except Refused as refused:
            # Who sent it is unknown (it may not be Slack): say what was wrong, never what was sent.
            log.info("Refused a request to %s: %s (%d)", path, refused.reason, refused.status.value)
            return _answer(start_response, refused.status, {"error": refused.reason}, environ)
        with self.hold() as held:
            response = self.app.dispatch(request)
        if held is None:
            return _respond(response, start_response)
        try:
            # Written through start_response's `write`, which returns once the server has sent
            # or buffered it: returned as an iterable, an empty body (most acknowledgements) is
            # sent only after the application has returned, and the work would start first.
            write = start_response(*_head(response))
            write(response.body.encode())
        finally:
            held.release()
        return []

    def _install(
        self, path: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """The install link and Slack's redirect back: a browser's GET, with no body to read."""
        assert self.oauth is not None
        request = BoltRequest(body="", query=environ.get("QUERY_STRING", ""), headers=_headers(environ))
        if path == self.oauth.install_path:
            return _respond(self.oauth.handle_installation(request), start_response)
        return _respond(self.oauth.handle_callback(request), start_response)

    def admit(self, environ: dict[str, Any]) -> SlackRequest:
        raw = self._read(environ)
        headers = _headers(environ)
        timestamp = str(headers.get("x-slack-request-timestamp", ""))
        signature = str(headers.get("x-slack-signature", ""))
        if not _TIMESTAMP.match(timestamp) or not signature:
            raise Refused(HTTPStatus.UNAUTHORIZED, "missing or malformed signature headers")
        if not self._signed(raw, timestamp, signature):
            raise Refused(HTTPStatus.UNAUTHORIZED, "invalid signature or an expired timestamp")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise Refused(HTTPStatus.BAD_REQUEST, "the body is not UTF-8") from error
        return SlackRequest(body=text, query=environ.get("QUERY_STRING", ""), headers=headers)

    def _signed(self, raw: bytes, timestamp: str, signature: str) -> bool:
        """Slack's scheme: HMAC-SHA256 of `v0:{timestamp}:{raw body}`, within five minutes of now."""
        if abs(self.clock() - int(timestamp)) > 60 * 5:
            return False  # a captured request replayed later
        digest = hmac.new(self.secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
        # WSGI gives headers as latin-1 text; compare bytes, so no header can make compare_digest raise.
        return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("latin-1", "replace"))

    def _read(self, environ: dict[str, Any]) -> bytes:
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        stream = environ.get("wsgi.input")
        if declared:
            if not declared.isdigit():
                raise Refused(HTTPStatus.BAD_REQUEST, "a malformed Content-Length")
            if int(declared) > self.max_body:
                raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a body over {self.max_body} bytes")
            return bytes(stream.read(int(declared))) if stream is not None and int(declared) else b""
        if stream is None or not (
            environ.get("wsgi.input_terminated")
            or "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", ""))
        ):
            return b""  # no length and no end marker: nothing we could read safely
        raw = bytes(stream.read(self.max_body + 1))
        if len(raw) > self.max_body:
            raise Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"a body over {self.max_body} bytes")
        return raw


class Releasable(Protocol):
    def release(self) -> None: ...


def _headers(environ: dict[str, Any]) -> dict[str, str | Sequence[str]]:
    headers: dict[str, str | Sequence[str]] = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = str(value)
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = str(value)
    return headers


def _respond(response: BoltResponse, start_response: Callable[..., Any]) -> list[bytes]:
    start_response(*_head(response))
    return [response.body.encode()]


def _head(response: BoltResponse) -> tuple[str, list[tuple[str, str]]]:
    length = len(response.body.encode())
    headers = [(k, v) for k, values in response.headers.items() for v in values if k != "content-length"]
    return _status(HTTPStatus(response.status)), [*headers, ("Content-Length", str(length))]


def _status(status: HTTPStatus) -> str:
    return f"{status.value} {status.phrase}"


def _answer(
    start_response: Callable[..., Any], status: HTTPStatus, payload: dict[str, Any], environ: dict[str, Any]
) -> list[bytes]:
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(_status(status), headers)
    return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]
