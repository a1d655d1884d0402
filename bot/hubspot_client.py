"""The HubSpot client wrapper: pacing, retries, refusals and lost answers for every call to HubSpot."""

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import urllib3
from hubspot import HubSpot
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsError
from hubspot.crm.objects.exceptions import ApiException as ObjectsError
from hubspot.crm.owners.exceptions import ApiException as OwnersError
from hubspot.crm.pipelines.exceptions import ApiException as PipelinesError
from hubspot.crm.properties.exceptions import ApiException as PropertiesError
from urllib3.util.retry import Retry

API_ERRORS = (ObjectsError, OwnersError, PipelinesError, AssociationsError, PropertiesError)
LOST = (urllib3.exceptions.HTTPError, OSError)  # no answer, or half of one
PAGE = 100  # list and batch endpoints
TIMEOUT = 30
RATE_LIMITED_TRIES = 100  # 429s in a row on one call before the sync gives up until its next run


class HubSpotRefused(Exception):
    """HubSpot said no for good (a bad token, a missing scope): one line saying which."""


class MissingScope(HubSpotRefused):
    """The private app lacks a scope this call needs (403)."""


class HubSpotUnavailable(Exception):
    """HubSpot didn't answer after the retries (down, or the daily limit used up): try again later."""


class Lost(Exception):
    """A write whose answer was lost: it may have landed."""


class Pacer:
    """Keeps requests inside HubSpot's rolling burst window and search's per-second limit.

    The window's size comes from the answers' `X-HubSpot-RateLimit-Max` and `-Interval-Milliseconds`
    (search answers carry none); until one is seen, the Free/Starter figure (100 per 10 s) is used.
    """

    def __init__(
        self,
        *,
        burst: int = 100,
        window_s: float = 10.0,
        search_per_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.burst, self.window_s, self.search_per_s = burst, window_s, search_per_s
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()
        self.searches: deque[float] = deque()
        self.waited = 0.0
        self.requests = 0
        # One pacer per process, shared by its threads (a web process's pusher, Socket Mode's clock):
        # taking a slot in the window is one step, so two threads never both take the last one.
        self.lock = threading.Lock()

    def before(self, *, search: bool) -> None:
        with self.lock:
            self._wait(self.sent, max(1, self.burst - 2), self.window_s)  # a margin for clock skew
            if search:
                self._wait(self.searches, max(1, int(self.search_per_s)), 1.0)
                self.searches.append(self.clock())
            self.sent.append(self.clock())
            self.requests += 1

    def _wait(self, sent: deque[float], limit: int, window: float) -> None:
        now = self.clock()
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) >= limit:
            pause = sent[len(sent) - limit] + window - now
            if pause > 0:
                self.pause(pause)
            now = self.clock()
            while sent and sent[0] <= now - window:
                sent.popleft()

    def pause(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    def learn(self, headers: Any) -> None:
        try:
            limit = headers.get("X-HubSpot-RateLimit-Max")
            interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
            remaining = headers.get("X-HubSpot-RateLimit-Remaining")
        except AttributeError:
            return
        if limit and str(limit).isdigit():
            self.burst = int(limit)
        if interval and str(interval).isdigit():
            self.window_s = int(interval) / 1000
        if remaining is not None and str(remaining).isdigit() and int(remaining) <= 1:
            # HubSpot's own count says the window is spent (other clients share it): let it roll.
            self.pause(self.window_s / max(1, self.burst) * 2)


def error_text(error: Exception) -> tuple[int, str, dict[str, Any]]:
    status = int(getattr(error, "status", 0) or 0)
    body: dict[str, Any] = {}
    raw = getattr(error, "body", None)
    if raw:
        try:
            parsed = json.loads(raw)
            body = parsed if isinstance(parsed, dict) else {}
        except (TypeError, ValueError):
            body = {}
    return status, str(body.get("message") or getattr(error, "reason", "") or "no message"), body


class HubSpotClient:
    """One HubSpot account's API clients, through the official `hubspot-api-client`.

    It sits in bot/ beside the Slack client (bot/slack.py): an adapter to an outside service, wired by
    the entry points. Every call goes through `_call`, which paces requests inside HubSpot's limits (a
    rolling burst window learned from the `X-HubSpot-RateLimit-*` headers, and search's few requests a
    second), waits out a 429 as told, retries 423/5xx and dropped connections on reads, and never
    repeats a create blindly: a create whose answer was lost is reported as unknown, and the caller
    looks for it (by the touch id it carries) before creating it again.

    Answers are read raw (`_preload_content=False`): the sync needs the rate-limit headers, and 100,000
    engagements parsed into generated model objects would cost time and memory for nothing.
    """

    def __init__(
        self,
        token: str,
        *,
        api_url: str | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
    ) -> None:
        options: dict[str, Any] = {"access_token": token, "retry": Retry(total=0, raise_on_status=False)}
        if api_url:
            options["host"] = api_url.rstrip("/")
        client = HubSpot(**options)
        # Each property access builds a new API client (and connection pool): build each once.
        self.objects = client.crm.objects.basic_api
        self.batch = client.crm.objects.batch_api
        self.search_api = client.crm.objects.search_api
        self.owners_api = client.crm.owners.owners_api
        self.pipelines_api = client.crm.pipelines.pipelines_api
        self.associations = client.crm.associations.v4.batch_api
        self.properties = client.crm.properties.core_api
        self.pacer = pacer or Pacer(sleep=sleep)
        self.attempts = attempts

    # ---- one call -------------------------------------------------------------------------------------

    def _call(
        self, call: Callable[..., Any], *args: Any, search: bool = False, write: bool = False, **kwargs: Any
    ) -> Any:
        """One API call, paced and retried as HubSpot asks; its JSON answer. A 429 is waited out and
        doesn't count as a failed try (up to RATE_LIMITED_TRIES of them); errors and silences do."""
        backoff = 1.0
        failures = limited = 0
        while failures < self.attempts and limited < RATE_LIMITED_TRIES:
            self.pacer.before(search=search)
            try:
                response = call(*args, _preload_content=False, _request_timeout=TIMEOUT, **kwargs)
            except API_ERRORS as error:
                status, message, body = error_text(error)
                if status == 401:
                    raise HubSpotRefused(f"HubSpot refused the token (401): {message}") from None
                if status == 403:
                    raise MissingScope(
                        f"HubSpot refused: the private app lacks a scope (403): {message}"
                    ) from None
                if status == 429:
                    limited += 1
                    self._rate_limited(error, body, limited)
                    continue
                if status == 423 or status >= 500:
                    if write and status >= 500 and status != 503:
                        raise Lost(f"HubSpot answered {status} to a write: {message}") from None
                    failures += 1
                    self.pacer.pause(2.0 if status == 423 else backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                raise
            except LOST as error:
                if write:
                    raise Lost(f"HubSpot's answer was lost: {error.__class__.__name__}") from None
                failures += 1
                self.pacer.pause(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self.pacer.learn(response.headers)
            data = response.data
            return json.loads(data) if data else {}
        raise HubSpotUnavailable(f"HubSpot did not answer after {self.attempts} tries")

    def _rate_limited(self, error: Exception, body: dict[str, Any], attempt: int) -> None:
        headers = getattr(error, "headers", None) or {}
        policy = str(body.get("policyName") or "")
        if policy == "DAILY":
            raise HubSpotUnavailable("HubSpot's daily request limit is used up; the sync carries on tomorrow")
        self.pacer.learn(headers)
        retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
        try:
            wait = float(retry_after) if retry_after else 0.0
        except ValueError:
            wait = 0.0
        # Without Retry-After (HubSpot doesn't promise one), let the rolling window move on.
        self.pacer.pause(wait or min(self.pacer.window_s, 1.0 * attempt))


def chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
