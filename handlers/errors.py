"""The last line of defence: log the trace, tell the person something kind, never show a stack trace."""

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.context.respond import Respond

from handlers import blocks
from handlers.deps import Deps


def register(app: App, deps: Deps) -> None:
    app.error(on_error)


def on_error(
    error: Exception, body: dict[str, Any], logger: logging.Logger, respond: Respond | None = None
) -> None:
    logger.error("Listener failed for a %s request", body.get("type") or body.get("command"), exc_info=error)
    if respond is None or not body.get("response_url"):
        return
    try:
        message = blocks.something_went_wrong(body.get("text"))
        respond(**message.payload(), response_type="ephemeral", replace_original=False)
    except Exception:  # the apology itself failed: the log above is all we can do
        logger.exception("Could not tell the user about the failure")
