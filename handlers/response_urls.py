"""Answering through a response_url: once, with no retry, on a connection opened before it is recorded."""

import http.client
import json
import logging
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.version import __version__ as SLACK_SDK_VERSION
from slack_sdk.webhook import WebhookClient

from coaching.outbox import REPLACE, Owed
from handlers.outcomes import LOST, Outcome, reached_nobody

log = logging.getLogger(__name__)
USER_AGENT = f"Baton slack_sdk/{SLACK_SDK_VERSION}"


@dataclass
class Opened:
    """A connection to a response_url's host, open before the answer is recorded as sent."""

    connection: http.client.HTTPConnection
    path: str

    def post(self, body: dict[str, Any]) -> int:
        """The answer, once, with no retry (as WebhookClient sends it): Slack's status."""
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json;charset=utf-8", "User-Agent": USER_AGENT}
        self.connection.request("POST", self.path, body=data, headers=headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


def open_connection(url: str) -> Opened | None:
    """A connection to the response_url's host, or None (it refused: the answer goes another way,
    as it would have, and nothing reached Slack)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=10, context=ssl.create_default_context()
        )
        if parts.scheme == "https"
        else http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    )
    try:
        connection.connect()
    except OSError as error:
        log.info(
            "Couldn't open the response_url's connection (%s); answering without it", type(error).__name__
        )
        connection.close()
        return None
    return Opened(connection, parts.path + (f"?{parts.query}" if parts.query else ""))


def by_response_url(owed: Owed, opened: Opened | None) -> Outcome | None:
    """The answer through its response_url, on `opened` if its connection was opened already.
    None: Slack didn't take it (another status, or the connection refused), so it goes another way."""
    shown = (
        {**owed.payload, "replace_original": True}
        if owed.method == REPLACE
        else {**owed.payload, "response_type": "ephemeral", "replace_original": False}
    )
    try:
        if opened is not None:
            try:
                status = opened.post(shown)
            finally:
                opened.connection.close()
        else:
            # No retry handlers: a connection dropped after Slack showed the answer, retried,
            # would show it twice (a response_url has no idempotency key either).
            webhook = WebhookClient(str(owed.response_url), timeout=10, retry_handlers=[])
            status = webhook.send_dict(shown).status_code
        if status == 200:
            return Outcome("sent", owed.reply_in, None)
        log.info("response_url answered %s; trying another way", status)
    except LOST as error:
        if not reached_nobody(error):
            # The answer may well be on the rep's screen, and an ephemeral can't be looked
            # for afterwards: one answer possibly lost beats the same answer twice.
            log.warning(
                "response_url's answer to outbox message %s was lost (%s); not sending it again",
                owed.id,
                type(error).__name__,
            )
            return Outcome("sent", owed.reply_in, None, error=f"uncertain: {type(error).__name__}")
        log.info("response_url refused the connection; trying another way")
    return None
