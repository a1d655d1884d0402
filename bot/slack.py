"""The Web API client every part of Baton uses: Slack's URL from the settings, and retries that respect Slack.

slack-sdk retries connection errors by default but not HTTP 429; these handlers add 429 (after
`Retry-After`) and 5xx, with an injectable `sleep` so tests can prove Retry-After is honoured
without waiting for it. A connection error is retried only for calls that are safe to repeat:
`chat.postMessage` has no idempotency key, so re-sending one whose answer was lost (the
connection dropped after Slack posted, or the answer came after the timeout) posts it twice. The
outbox settles those by looking for the message instead (handlers/posts_in_doubt.py), and its sender
(handlers/courier.py) drops the 429 handler altogether: a row it holds is put back until
Retry-After has passed, so no send sleeps while another sender could take its row.
"""

import random
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

Sleep = Callable[[float], None]


class Stateless:
    """Retry handlers keep no state between calls; Bolt deep-copies the client for lazy listeners,
    and a copy would also copy the injected `sleep` (and whatever a test records with it)."""

    def __deepcopy__(self, memo: dict[int, object]) -> "Stateless":
        return self


# Calls that create something new each time: a lost answer must not be retried blindly.
NOT_IDEMPOTENT = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage", "files.completeUploadExternal"}
)


def api_method(request: HttpRequest) -> str:
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class SafeConnectionRetry(Stateless, ConnectionErrorRetryHandler):
    """slack-sdk's connection-error retry, except for calls that would do their work twice."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if api_method(request) in NOT_IDEMPOTENT:
            return False
        return bool(super()._can_retry(state=state, request=request, response=response, error=error))


class RetryAfter(Stateless, RateLimitErrorRetryHandler):
    """Retry a 429 once Slack's `Retry-After` seconds have passed."""

    def __init__(self, max_retry_count: int = 3, sleep: Sleep = time.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            raise error or RuntimeError("429 retry without a response")
        header = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), None)
        try:
            wait = float(header[0] if isinstance(header, list) else header) if header else 1.0
        except ValueError:
            wait = 1.0
        state.next_attempt_requested = True
        self.sleep(wait + random.random() / 4)  # a little jitter so paced senders don't retry in lockstep
        state.increment_current_attempt()


class ServerErrors(Stateless, ServerErrorRetryHandler):
    """Retry a 500 or 503 with a short exponential back-off."""

    def __init__(self, max_retry_count: int = 2, sleep: Sleep = time.sleep) -> None:
        super().__init__(
            max_retry_count=max_retry_count, interval_calculator=BackoffRetryIntervalCalculator(0.5)
        )
        self.sleep = sleep

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self.sleep(self.interval_calculator.calculate_sleep_duration(state.current_attempt))
        state.increment_current_attempt()


def retry_handlers(sleep: Sleep = time.sleep) -> list[RetryHandler]:
    return [
        SafeConnectionRetry(max_retry_count=2),
        RetryAfter(sleep=sleep),
        ServerErrors(sleep=sleep),
    ]


def make_client(
    token: str | None, api_url: str, *, sleep: Sleep = time.sleep, timeout: int = 10
) -> WebClient:
    """`timeout` bounds the wait for each answer: a slow Slack costs seconds, never a stuck thread."""
    return WebClient(token=token, base_url=api_url, timeout=timeout, retry_handlers=retry_handlers(sleep))
