"""How listeners are registered, and the last line of defence when one fails.

Baton runs Bolt with `process_before_response=True`: the request thread acknowledges at once
(`ack_now`) and the work runs as a lazy listener on the listener pool (`lazily`). An
acknowledgement then never waits for a free worker thread, however much work is queued.

Every listener is wrapped by `guarded`: a failure is logged with its trace and answered kindly,
never raised into Bolt (which would answer Slack with an error, or, on Bolt's threaded path,
overwrite an acknowledgement already given).
"""

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.kwargs_injection.args import Args

from handlers.blocks.base import something_went_wrong
from handlers.deps import Deps

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    app.error(on_error)  # failures outside listeners: middleware, matching
    app.use(require_team)


def require_team(context: BoltContext, next: Callable[[], None]) -> BoltResponse | None:
    """Every row belongs to a Slack team: a request that names none is refused, not read as team "None".

    (Slack's URL check and SSL check carry no team; Bolt answers those before any middleware of ours.)
    """
    if not context.team_id:
        return BoltResponse(status=400, body="This request names no Slack team.")
    next()
    return None


def ack_now(ack: Ack) -> None:
    ack()


def lazily(route: Callable[..., Any], work: Callable[..., Any]) -> None:
    """Register `work` for `route` (e.g. `app.command("/lead")`): acknowledged now, done on the pool."""
    route(ack=ack_now, lazy=[guarded(work)])


def answered(route: Callable[..., Any], check: Callable[..., Any], work: Callable[..., Any]) -> None:
    """For modals: `check` answers in the request thread (errors shown in place), then `work` runs lazily."""
    route(ack=guarded(check), lazy=[guarded(work)])


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
        message = something_went_wrong(body.get("text"))
        respond(**message.payload(), response_type="ephemeral", replace_original=False)
    except Exception:  # the apology itself failed: the log above is all we can do
        logger.exception("Could not tell the person about the failure")


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    return str(user.get("id") if isinstance(user, dict) else body.get("user_id") or "someone")
