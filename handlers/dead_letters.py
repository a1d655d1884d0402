"""Requests Baton gave up on: the person who sent them is told what was not done, with what they typed.

A request ends as a dead letter after coaching/inbox.py MAX_ATTEMPTS tries (a passing database
error each time, or a process that died each time it ran it). The notice is owed in the same
transaction that closes the request, so it is sent once, however many processes recover at once.
"""

import json

from sqlalchemy.orm import Session

from coaching.inbox import MAX_ATTEMPTS
from handlers import outbox
from handlers.blocks.base import not_done
from handlers.deps import Deps
from handlers.payloads import form_answers
from store.inbox import Kept


def owe_notices(deps: Deps, session: Session, dead: list[Kept]) -> list[int]:
    """A DM to each sender (an event has none: the log says it); their outbox ids."""
    owed: list[int] = []
    for kept in dead:
        if not kept.user_id:
            continue
        body = json.loads(kept.body)
        if kept.kind == "view_submission":
            message = not_done(form=form_answers(body.get("view") or {}), tries=MAX_ATTEMPTS)
        elif kept.kind == "command":
            typed = f"{body.get('command')} {body.get('text') or ''}".strip()
            message = not_done(typed=typed, tries=MAX_ATTEMPTS)
        else:
            actions = body.get("actions") or [{}]
            label = ((actions[0] or {}).get("text") or {}).get("text") or "a button"
            message = not_done(pressed=str(label), tries=MAX_ATTEMPTS)
        owed.append(outbox.post(session, kept.team_id, kept.user_id, message, deps=deps))
    return owed
