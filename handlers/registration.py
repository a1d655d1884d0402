"""How listeners are registered, and the last line of defence when one fails.

Baton runs Bolt with `process_before_response=True`: the request thread acknowledges at once
(`ack_now`) and the work runs as a lazy listener on the listener pool (`lazily`). An
acknowledgement then never waits for a free worker thread, however much work is queued.

Every listener is wrapped by `guarded`: a failure is logged with its trace and answered kindly,
never raised into Bolt (which would answer Slack with an error, or, on Bolt's threaded path,
overwrite an acknowledgement already given). The answer is honest: after the work committed it
says the work was saved (never "nothing was saved", which would have the rep log it twice), and
a form, which has no response_url, is answered by DM with everything the rep typed in it.

The work of a request kept in the inbox (handlers/inbox.py) takes and ends its inbox row in its
own transaction, so a replay, a retry or a resumed copy of it is done once.
"""

import inspect
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient

from handlers.blocks.base import form_not_done, saved_without_reply, something_went_wrong
from handlers.deps import Deps
from handlers.inbox import CURRENT, RECEIPT, Receipt, Superseded, is_passing
from handlers.payloads import form_answers

log = logging.getLogger(__name__)


def register(app: App, deps: Deps) -> None:
    app.error(on_bolt_error)  # failures outside listeners: middleware, matching
    app.use(require_team)


def require_team(context: BoltContext, next: Callable[[], None]) -> BoltResponse | None:
    """Every row belongs to a Slack team: a request that names none is refused, not read as team "None".

    (Slack's URL check and SSL check carry no team; Bolt answers those before any middleware of ours.)
    """
    if not context.team_id:
        return BoltResponse(status=400, body="This request names no Slack team.")
    next()
    return None


DURABLE = "baton_durable"  # set on a listener that does a kept request's work (takes and closes its row)
CHECK = "baton_check"  # set on an acknowledgement that only checks a form; the work is durable, later
OPTIONS = "baton_options"  # set on an options listener: answered in the acknowledgement, never kept


def ack_now(ack: Ack) -> None:
    ack()


setattr(ack_now, CHECK, True)


# The one way to register a listener. Every request the inbox keeps (handlers/inbox.py
# `durable_kind`) is done by a durable listener, registered by one of the first three below;
# tests/slack/test_inbox_contract.py walks every route of the built app and fails on any other.
def lazily(route: Callable[..., Any], work: Callable[..., Any]) -> None:
    """Register `work` for `route` (e.g. `app.command("/lead")`): acknowledged now, done on the pool."""
    route(ack=ack_now, lazy=[guarded(work, durable=True)])


def answered(route: Callable[..., Any], check: Callable[..., Any], work: Callable[..., Any]) -> None:
    """For modals: `check` answers in the request thread (errors shown in place), then `work` runs lazily."""
    checking = guarded(check)
    setattr(checking, CHECK, True)
    route(ack=checking, lazy=[guarded(work, durable=True)])


def at_once(route: Callable[..., Any], work: Callable[..., Any]) -> None:
    """Work whose answer is the acknowledgement itself (a form saved while it is open, its problems
    shown in place): done in the request thread, and kept like any other."""
    route(ack=guarded(work, durable=True, retry=False), lazy=[])


def options(route: Callable[..., Any], listener: Callable[..., Any]) -> None:
    """An options request (a lead search): answered in the acknowledgement; nothing to keep."""
    answering = guarded(listener)
    setattr(answering, OPTIONS, True)
    route(ack=answering, lazy=[])


def unhandled(app: App) -> None:
    """Registered last: a kept request no listener matched (a retired button, an event Baton no
    longer handles) is acknowledged and closed at once as unhandled, never run again."""

    def close(ack: Ack, body: dict[str, Any], context: BoltContext, logger: logging.Logger) -> None:
        ack()
        receipt: Receipt | None = context.get(RECEIPT)
        kind = body.get("command") or body.get("type")
        logger.warning("No listener for a %s (%s): closed as unhandled", kind, _what(body))
        if receipt is not None:
            receipt.close("unhandled")

    setattr(close, DURABLE, True)
    everything = re.compile(".*")
    for route in (app.command, app.action, app.view, app.event):
        route(everything)(close)


def is_durable(listener: Any) -> bool:
    """Whether a registered Bolt listener does a kept request's work the durable way."""
    lazy = list(getattr(listener, "lazy_functions", []) or [])
    ack = getattr(listener, "ack_function", None)
    if getattr(ack, DURABLE, False):
        return not lazy
    return bool(lazy) and getattr(ack, CHECK, False) and all(getattr(f, DURABLE, False) for f in lazy)


def _id(receipt: Receipt | None) -> str:
    return str(receipt.inbox_id) if receipt is not None else "?"


def _what(body: dict[str, Any]) -> str:
    actions = body.get("actions") or []
    if actions and isinstance(actions[0], dict):
        return str(actions[0].get("action_id"))
    view = body.get("view") or {}
    event = body.get("event") or {}
    return str(view.get("callback_id") or event.get("type") or body.get("command") or "?")


def guarded(
    listener: Callable[..., Any], *, durable: bool = False, retry: bool = True
) -> Callable[[Args], None]:
    """Wrap a listener so any failure is logged and answered kindly instead of raised into Bolt.

    `durable`: the work of a request kept in the inbox. Its work transaction takes and ends the
    request (handlers/deps.py `working`); if it wrote nothing, the request is closed when it ends.
    A passing database error before the work committed sends the request back to the inbox for
    another try (coaching/inbox.py BACKOFF), and after the last a dead letter tells the sender;
    not with `retry=False` (work answered in the acknowledgement: the person is told at once).
    """
    names = list(inspect.signature(listener).parameters)

    def run(args: Args) -> None:
        receipt: Receipt | None = args.context.get(RECEIPT) if durable else None
        token = CURRENT.set(receipt)
        outcome: str | None = None  # how the request ends; None: not here (run again, or by another)
        try:
            listener(**{name: getattr(args, name) for name in names})
            outcome = "done"
        except Superseded:
            args.logger.info("Request %s is done already or in hand elsewhere: not twice", _id(receipt))
        except Exception as error:
            if retry and receipt is not None and not receipt.committed and is_passing(error):
                args.logger.warning(
                    "A passing database error on request %s (try %d): it goes back to the inbox",
                    receipt.inbox_id,
                    receipt.attempts,
                    exc_info=error,
                )
                receipt.try_again_later()
                return
            outcome = "failed"
            if args.ack.response is None:
                args.ack()  # failed before acknowledging: acknowledge now, so Slack shows only our reply
            saved = receipt is not None and receipt.committed
            on_error(error, args.body, args.logger, args.respond, args.client, saved=saved)
        finally:
            # Anything else (a BaseException: the thread or the process being stopped) ends nothing:
            # unless its work committed, the request stays undone and is run again.
            CURRENT.reset(token)
            if receipt is not None:
                if outcome is not None:
                    receipt.close(outcome)
                else:
                    receipt.leave()

    run.__name__ = run.__qualname__ = getattr(listener, "__name__", "listener")
    if durable:
        setattr(run, DURABLE, True)
    return run


def on_bolt_error(
    error: Exception, body: dict[str, Any], logger: logging.Logger, respond: Respond, client: WebClient
) -> None:
    on_error(error, body, logger, respond, client)


def on_error(
    error: Exception,
    body: dict[str, Any],
    logger: logging.Logger,
    respond: Respond | None = None,
    client: WebClient | None = None,
    *,
    saved: bool = False,
) -> None:
    """Log the failure and tell the person what became of what they sent, truthfully."""
    kind = body.get("command") or body.get("type") or "request"
    logger.error("Baton failed on a %s from %s (saved: %s)", kind, _user(body), saved, exc_info=error)
    try:
        if body.get("type") == "view_submission":
            # A form has no response_url and the modal has closed: a DM with what they typed.
            if client is not None:
                answers = form_answers(body.get("view") or {})
                client.chat_postMessage(channel=_user(body), **form_not_done(answers, saved=saved).payload())
            return
        if respond is None or not body.get("response_url"):
            return
        message = saved_without_reply(kind) if saved else something_went_wrong(body.get("text"))
        respond(**message.payload(), response_type="ephemeral", replace_original=False)
    except Exception:  # the apology itself failed: the log above is all we can do
        logger.exception("Could not tell the person about the failure")


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    return str(user.get("id") if isinstance(user, dict) else body.get("user_id") or "someone")
