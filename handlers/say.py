"""Answering a click that wrote nothing where it happened (in its message, or on the Home tab), and pacing posts."""

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient

from coaching.home import home
from handlers.blocks.base import Message
from handlers.blocks.home import home as home_tab
from handlers.deps import Deps
from handlers.payloads import from_home


def answer(
    deps: Deps,
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    message: Message,
    *,
    replace: bool,
) -> None:
    """Answer a click where it happened: in its message, or on the Home tab by refreshing it with a note."""
    if from_home(body):
        publish_home(deps, client, str(context.team_id), body["user"]["id"], note=message.text)
        return
    respond(**message.payload(), response_type="ephemeral", replace_original=replace)


def publish_home(
    deps: Deps, client: WebClient, team_id: str, user_id: str, *, note: str | None = None
) -> None:
    """Publish someone's Home tab as it stands now, with a line on top saying what just happened."""
    with deps.acting(client, team_id, user_id, write=False) as (session, caller):
        view = home(session, caller)
    client.views_publish(user_id=user_id, view=home_tab(view, caller.rules, caller.local_now, note=note))


class Pacer:
    """Spaces posts out to stay inside Slack's rate tiers.

    chat.postMessage tolerates bursts but caps a workspace at several hundred a minute; a morning
    digest for a large team goes out steadily instead of tripping 429s (which are retried anyway).
    """

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)
