"""What one attempt to send an owed message came to, and which of Slack's errors and lost answers pass."""

import http.client
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError

# Slack's errors that pass: the same call later may well work. Any other error is for good.
PASSING = frozenset(
    {
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "token_expired",  # a rotating token ran out between being read and used: refreshed next time
    }
)
LOST = (OSError, http.client.HTTPException)  # urllib: no answer, or half of one


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | retry | failed | unknown
    channel: str | None = None
    ts: str | None = None
    error: str = ""
    retry_after: float | None = None
    posted_at: datetime | None = None  # unknown: when the post in doubt was made
    looked_before: str | None = None  # unknown: the next look reads messages older than this
    shows_old: bool = False  # sent, found in Slack showing what the row said before it was revised


def refused(error: SlackApiError) -> Outcome:
    status = error.response.status_code
    code = str(error.response.get("error") or status)
    passing = status == 429 or status >= 500 or code in PASSING
    retry_after: float | None = None
    if status == 429:
        header = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
        try:
            retry_after = float(header[0] if isinstance(header, list) else header) if header else None
        except ValueError:
            retry_after = None
    return Outcome("retry" if passing else "failed", error=code, retry_after=retry_after)


def reached_nobody(error: BaseException) -> bool:
    """A refused connection (urllib wraps it in URLError.reason): nothing reached Slack, so sending
    again is safe. Any other lost answer may have come after Slack did the work."""
    return isinstance(error, ConnectionRefusedError) or isinstance(
        getattr(error, "reason", None), ConnectionRefusedError
    )
