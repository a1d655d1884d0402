"""Block Kit for a new install: the welcome DM to the person who added Baton to their workspace."""

from handlers.blocks.base import Message, context, mrkdwn
from handlers.blocks.text import esc


def welcome(installer: str, *, team_name: str, manager: bool) -> Message:
    """What the installer reads first: what Baton does now, and (when they became the workspace's
    first manager) what being its manager means."""
    team = esc(team_name) or "your workspace"
    role = (
        "as the person who added it you're its first manager: you approve lead transfers and get "
        "the weekly pipeline review."
        if manager
        else "its managers stay as they were (`/coach settings` lists them)."
    )
    return Message(
        text=(
            f"Baton is installed in {team_name or 'your workspace'}"
            + (", and you're its first manager. " if manager else ". ")
            + "Next: add your reps' leads with /lead add (or import a CSV), and ask your reps to log "
            "calls with /logcall. /coach settings shows the rules and who manages."
        ),
        blocks=(
            mrkdwn(f":wave: Hi <@{installer}>, Baton is installed in *{team}*; {role}"),
            mrkdwn(
                "*What to do next*\n"
                "1. Bring your pipeline in: `/lead add` one lead at a time, or ask whoever runs "
                "Baton to import your CRM's CSV export.\n"
                "2. Ask your reps to log every call, email and meeting with `/logcall`: each gets "
                "a private digest every working morning.\n"
                "3. `/coach settings` shows the follow-up rules, the digest time and who manages; "
                "`/coach managers add @name` adds another manager."
            ),
            context("Type `/coach help` any time for every command."),
        ),
    )
