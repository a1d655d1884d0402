"""The last line of defence: log the trace, tell the person something kind, never show a stack trace.

Every listener is registered through `guarded`. Failures must not escape a listener that has already
acknowledged: Bolt's thread runner then overwrites the acknowledgement with None if its 10 ms poll
hasn't seen it yet, and Slack shows the person a timeout on top of our apology.
"""

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_bolt.context.respond import Respond
from slack_bolt.kwargs_injection.args import Args

from handlers import blocks
from handlers.deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    app.error(on_error)  # failures outside listeners: middleware, matching


def guarded(listener: Callable[..., Any]) -> Callable[[Args], None]:
    """Wrap a listener so any failure is logged and answered kindly instead of raised into Bolt."""
    names = list(inspect.signature(listener).parameters)

    def run(args: Args) -> None:
        try:
            listener(**{name: getattr(args, name) for name in names})
        except Exception as error:
            if args.ack.response is None:
                args.ack()  # failed before acknowledging: acknowledge now, so Slack shows only our reply
            on_error(error, args.body, args.logger, args.respond)

    run.__name__ = run.__qualname__ = getattr(listener, "__name__", "listener")
    return run


def on_error(
    error: Exception, body: dict[str, Any], logger: logging.Logger, respond: Respond | None = None
) -> None:
    kind = body.get("command") or body.get("type") or "request"
    logger.error("Baton failed on a %s from %s", kind, _user(body), exc_info=error)
    if respond is None or not body.get("response_url"):
        return
    try:
        message = blocks.something_went_wrong(body.get("text"))
        respond(**message.payload(), response_type="ephemeral", replace_original=False)
    except Exception:  # the apology itself failed: the log above is all we can do
        logger.exception("Could not tell the person about the failure")


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    return str(user.get("id") if isinstance(user, dict) else body.get("user_id") or "someone")
