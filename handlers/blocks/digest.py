"""Block Kit for the morning digest: what needs each rep today, with the buttons to act on it."""

from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    MarkdownTextObject,
    SectionBlock,
)

from coaching.digest_contents import Digest, Section
from coaching.digest_contents import Item as NudgeItem
from coaching.rules import Rules
from handlers.blocks.base import Message, button, context, lead_ref, mrkdwn, plain
from handlers.blocks.ids import Action, block_id_of, button_value
from handlers.blocks.text import FLAG_LABEL, day, inert, last_touch, overdue_text, plural

SECTION_TITLE = {
    Section.MEETING: ":calendar: *Meetings before your next working day*: send each client a short reminder today",
    Section.AT_LIMIT: ":no_entry_sign: *At the attempt limit*: back-burner them or hand them on",
    Section.STALLED: ":hourglass: *Gone quiet after a conversation*: send something useful, not a chase",
    Section.FOLLOW_UP: ":dart: *Follow-ups due*",
    Section.LAPSED: ":moneybag: *Customers due a hello*: what else could you do for them?",
}


SECTION_SHORT = {
    Section.MEETING: "meeting to remind",
    Section.AT_LIMIT: "at the attempt limit",
    Section.STALLED: "gone quiet",
    Section.FOLLOW_UP: "follow-up due",
    Section.LAPSED: "customer due a hello",
}


def item_line(item: NudgeItem, rules: Rules, today: date) -> str:
    # Past the sales cycle, untouched for weeks: flags beside the item, whatever section it is in.
    return " · ".join([_item_text(item, rules, today), *(FLAG_LABEL[flag] for flag in sorted(item.flags))])


def _item_text(item: NudgeItem, rules: Rules, today: date) -> str:
    name = lead_ref(item.name)
    if item.section is Section.MEETING and item.meeting_on:
        return f"{name} · meeting {day(item.meeting_on, today)}"
    if item.section is Section.AT_LIMIT:
        return f"{name} · {plural(item.attempts, 'attempt')}, nobody reached (limit {rules.attempts_limit})"
    if item.section is Section.STALLED:
        return f"{name} · quiet for {item.quiet_days or item.idle_days} days since your last conversation"
    if item.section is Section.FOLLOW_UP:
        due = overdue_text(item.overdue_days) if item.overdue_days else "due today"
        return f"{name} · {due} · {last_touch(item.touched_days)}"
    if item.section is Section.LAPSED:
        return f"{name} · a customer nobody has touched for {item.idle_days} days"
    return f"{name} · untouched for {item.idle_days} days"


def digest_buttons(item: NudgeItem) -> ActionsBlock:
    value = button_value(item.lead_id)
    elements = [
        button("Log a touch", Action.LOGCALL_OPEN, value, style="primary"),
        button("Snooze 2 days", Action.DIGEST_SNOOZE, value),
    ]
    if item.section is not Section.LAPSED:
        elements += [
            button("Back-burner", Action.DIGEST_BACKBURNER, value),
            button("Hand off…", Action.HANDOFF_OPEN, value),
        ]
    return ActionsBlock(block_id=block_id_of(Action.NUDGE_BLOCK, item.lead_id), elements=elements)


def greeting_for(hour: int) -> str:
    """The greeting for the rep's own hour: a digest sent (or updated) late in the day says so."""
    return "Good morning" if hour < 12 else "Good afternoon" if hour < 18 else "Good evening"


def digest(d: Digest, rules: Rules, *, name: str | None = None, hour: int = 8) -> Message:
    """The morning DM: only what needs action today, each lead once, with the buttons to act."""
    if d.is_empty:
        text = ":sparkles: Nothing needs you today: every lead is on track."
        return Message("Nothing needs you today.", (mrkdwn(text),))
    hello = greeting_for(hour)
    greeting = f"{hello}, {inert(name)}" if name else hello
    tally = d.counts  # counted exactly as /pipeline, the Home tab and the managers' views count
    blocks: list[Block] = [
        mrkdwn(
            f":sunrise: *{greeting}.* {plural(d.total, 'thing')} need{'s' if d.total == 1 else ''} you today."
        ),
        context(
            f"Your pipeline: *{tally.open}* open · *{tally.overdue}* overdue · *{tally.due_today}* due today"
            f" · *{tally.at_limit}* at the attempt limit"
        ),
    ]
    counts = []
    for section, items, more in d.sections:
        blocks.append(mrkdwn(SECTION_TITLE[section]))
        for item in items:
            blocks.append(
                SectionBlock(
                    block_id=block_id_of(Action.ITEM_BLOCK, item.lead_id),
                    text=MarkdownTextObject(text=item_line(item, rules, d.today)),
                )
            )
            blocks.append(digest_buttons(item))
        if more:
            blocks.append(context(f"…and {more} more. `/pipeline` shows them all."))
        counts.append(f"{len(items) + more} {SECTION_SHORT[section]}")
    blocks.append(context("Snoozed leads come back in two days. Leads that opted out are never listed."))
    return Message(f"{hello}: {', '.join(counts)}.", tuple(blocks))


def digest_done() -> Message:
    return plain(":tada: That's everything for today. Nice work.")
