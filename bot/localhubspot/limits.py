"""HubSpot's rate limits and the faults a test can order: what stands between a request and an answer.

Burst: at most `burst_limit` requests in any rolling `burst_window_s` (private apps: 100 per 10 s on
Free/Starter, 190 on Professional/Enterprise), every answer carrying the `X-HubSpot-RateLimit-*`
headers; over it, 429 with `policyName: TEN_SECONDLY_ROLLING`. Search has its own ~5 requests a second
and its answers carry no rate-limit headers. Requests turned away do not use up the window.
"""

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.localhubspot.errors import ApiError


def rate_limited(policy: str, headers: dict[str, str]) -> ApiError:
    """HubSpot's 429: `errorType: RATE_LIMIT` and the `policyName` of the limit that was hit."""
    return ApiError(
        429,
        "RATE_LIMITS",
        f"You have reached your {policy.lower()} limit.",
        headers=headers,
        extra={"errorType": "RATE_LIMIT", "policyName": policy},
    )


class RateLimits:
    def __init__(
        self,
        *,
        burst_limit: int,
        burst_window_s: float,
        search_per_s: float,
        daily_limit: int,
        clock: Callable[[], float],
    ) -> None:
        self.burst_limit = burst_limit
        self.burst_window_s = burst_window_s
        self.search_per_s = search_per_s
        self.daily_limit = daily_limit
        self._clock = clock
        self._burst: deque[float] = deque()
        self._search: deque[float] = deque()
        self.daily_used = 0
        self.burst_used = 0  # requests admitted under the burst limit, since the start
        self.search_used = 0  # search requests admitted
        self.turned_away = 0  # 429s answered because a limit was reached (not ordered storms)
        self._lock = threading.Lock()

    def headers(self, remaining: int) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(self.burst_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.burst_window_s * 1000)),
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(self.daily_limit - self.daily_used, 0)),
        }

    def admit(self, *, search: bool) -> dict[str, str]:
        """Count one request and return the headers its answer carries, or raise the 429."""
        with self._lock:
            now = self._clock()
            if search:
                # A rolling second holding at most search_per_s requests.
                while self._search and self._search[0] <= now - 1.0:
                    self._search.popleft()
                if len(self._search) >= self.search_per_s:
                    self.turned_away += 1
                    raise rate_limited("SECONDLY", {})
                self._search.append(now)
                self.daily_used += 1
                self.search_used += 1
                return {}
            while self._burst and self._burst[0] <= now - self.burst_window_s:
                self._burst.popleft()
            if self.daily_used >= self.daily_limit:
                self.turned_away += 1
                raise rate_limited("DAILY", self.headers(0))
            if len(self._burst) >= self.burst_limit:
                self.turned_away += 1
                raise rate_limited("TEN_SECONDLY_ROLLING", self.headers(0))
            self._burst.append(now)
            self.daily_used += 1
            self.burst_used += 1
            return self.headers(self.burst_limit - len(self._burst))


@dataclass
class _Drop:
    left: int
    path: str | None  # None: any write


@dataclass
class _Storm:
    left: int
    retry_after_s: float | None


class Faults:
    """Trouble a test orders from the stand-in. Each counts down as requests arrive."""

    def __init__(self, clock: Callable[[], float], limits: RateLimits) -> None:
        self._clock = clock
        self._limits = limits
        self._lock = threading.Lock()
        self._drops: list[_Drop] = []
        self._storms: list[_Storm] = []
        self._errors: list[list[int]] = []  # [times left, status]
        self._down_until: float | None = None
        self.dropped = 0  # answers dropped after the write was applied

    def drop_after_write(self, n: int = 1, *, path: str | None = None) -> "Faults":
        """The next `n` writes (to `path` alone, when given) are applied, then the connection closes
        without an answer."""
        with self._lock:
            self._drops.append(_Drop(n, path))
        return self

    def rate_limit_storm(self, n: int, retry_after_s: float | None = None) -> "Faults":
        """The next `n` requests get HubSpot's TEN_SECONDLY_ROLLING 429 (with `Retry-After` when given)."""
        with self._lock:
            self._storms.append(_Storm(n, retry_after_s))
        return self

    def server_errors(self, n: int, status: int = 502) -> "Faults":
        """The next `n` requests get a 5xx answer and change nothing."""
        with self._lock:
            self._errors.append([n, status])
        return self

    def down(self, until_clock: float) -> "Faults":
        """Every request answers 503 until the stand-in's clock reaches `until_clock`."""
        with self._lock:
            self._down_until = until_clock
        return self

    def clear(self) -> None:
        with self._lock:
            self._drops, self._storms, self._errors, self._down_until = [], [], [], None

    def before(self) -> None:
        """Raise the fault this request meets before HubSpot does anything, if any."""
        with self._lock:
            if self._down_until is not None:
                if self._clock() < self._down_until:
                    raise ApiError(503, "SERVICE_UNAVAILABLE", "HubSpot is temporarily unavailable.")
                self._down_until = None
            storm = next((s for s in self._storms if s.left > 0), None)
            if storm is not None:
                storm.left -= 1
                headers = self._limits.headers(0)
                if storm.retry_after_s is not None:
                    headers["Retry-After"] = f"{storm.retry_after_s:g}"
                raise rate_limited("TEN_SECONDLY_ROLLING", headers)
            error = next((e for e in self._errors if e[0] > 0), None)
            if error is not None:
                error[0] -= 1
                raise ApiError(error[1], "INTERNAL_ERROR", "internal error")

    def drop_now(self, path: str) -> bool:
        """After a write to `path` was applied: should its answer be lost?"""
        with self._lock:
            drop = next((d for d in self._drops if d.left > 0 and d.path in (None, path)), None)
            if drop is None:
                return False
            drop.left -= 1
            self.dropped += 1
            return True
