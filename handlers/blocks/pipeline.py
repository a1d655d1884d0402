"""Block Kit for /pipeline: a rep's open leads grouped by what needs doing."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from slack_sdk.models.blocks import (
    Block,
    DividerBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    SectionBlock,
)

from coaching.pipeline import Item, Pipeline
from coaching.rules import Flag, Rules, Status
from handlers.blocks.base import LIST_LINES, SECTION_TEXT, Message, context, lead_ref, mrkdwn
from handlers.blocks.ids import Action, block_id_of, menu_value
from handlers.blocks.text import FLAG_LABEL, clip, day, days_ago, esc, overdue_text, relative, who

PIPELINE_ITEMS = 10  # leads shown with their own menu per group; the rest as a list


def pipeline(view: Pipeline, now: datetime, *, viewer: str) -> Message:
    today = view.today
    whose = "Your pipeline" if viewer == view.owner_id else f"{who(view.owner_id)}'s pipeline"
    if view.is_empty:
        text = f"{whose} is empty. Add a lead with `/lead add Acme Corp`."
        return Message("The pipeline is empty.", (mrkdwn(text),))
    counts = [f"*{view.open_count}* open"]
    if view.overdue:
        counts.append(f"*{len(view.overdue)}* overdue")
    if view.due_today:
        counts.append(f"*{len(view.due_today)}* due today")
    counts.append(f"*{len(view.upcoming)}* upcoming")
    if view.undecided:
        counts.append(f"*{len(view.undecided)}* to decide")  # so the groups add up to the open count
    if view.backburner:
        counts.append(f"*{len(view.backburner)}* on the back-burner")
    blocks: list[Block] = [
        mrkdwn(f"*{whose}* · {day(today, today).capitalize()}, {today:%a} {today.day} {today:%b}"),
        context(" · ".join(counts)),
    ]
    groups = (
        (":rotating_light: *Overdue*", view.overdue, True),
        (":dart: *Due today*", view.due_today, True),
        (":thinking_face: *Needs a decision* (nothing scheduled)", view.undecided, False),
        (":spiral_calendar_pad: *Upcoming*", view.upcoming, False),
        (":fire: *Back-burner*", view.backburner, False),
    )
    for title, leads, itemised in groups:
        if not leads:
            continue
        blocks.append(DividerBlock())
        if itemised:
            blocks.append(mrkdwn(f"{title} ({len(leads)})"))
            blocks.extend(_pipeline_item(item, view.rules, today, now) for item in leads[:PIPELINE_ITEMS])
            rest = leads[PIPELINE_ITEMS:]
            if rest:
                blocks.append(context(_more(rest, today)))
        else:
            blocks.append(mrkdwn(f"{title} ({len(leads)})\n" + lead_lines(leads, today, view.rules, now)))
    fallback = f"{whose.replace('*', '')}: {view.open_count} open, {len(view.overdue)} overdue, {len(view.due_today)} due today"
    return Message(fallback, tuple(blocks))


def attempts_words(attempts: int, limit: int) -> str:
    """Tries so far against the limit, in words that stay true past it and before the first."""
    if attempts == 0:
        return "no attempts yet"
    if attempts > limit:
        return f"{attempts} attempts, past the limit of {limit}"
    return f"attempt {attempts} of {limit}"


def _summary(item: Item, today: date, rules: Rules, now: datetime) -> str:
    lead = item.lead
    parts = [lead_ref(lead.name)]
    meeting_ahead = lead.meeting_on is not None and lead.meeting_on >= today
    if lead.status is Status.OPEN and lead.next_follow_up and (item.overdue_days or not meeting_ahead):
        # With a meeting ahead the meeting is the next step: its follow-up is the day after it.
        late = item.overdue_days
        parts.append(overdue_text(late) if late else relative(lead.next_follow_up, today))
    if lead.meeting_on and lead.meeting_on >= today and Flag.MEETING_REMINDER not in item.flags:
        parts.append(f":calendar: meeting {day(lead.meeting_on, today)}")
    if not lead.reached and lead.status is Status.OPEN:
        parts.append(attempts_words(lead.attempts, rules.attempts_limit))
    if lead.last_touch_at:
        parts.append(f"last touch {days_ago(lead.last_touch_at, now)}")
    parts.extend(FLAG_LABEL[flag] for flag in sorted(item.flags))
    return " · ".join(parts)


def _pipeline_item(item: Item, rules: Rules, today: date, now: datetime) -> SectionBlock:
    lead = item.lead
    menu = OverflowMenuElement(
        action_id=Action.LEAD_MENU,
        options=[
            Option(text="Log a touch", value=menu_value(Action.LOGCALL_OPEN, lead.id)),
            Option(text="Show the lead", value=menu_value(Action.LEAD_SHOW, lead.id)),
            Option(text="Back-burner", value=menu_value(Action.LEAD_BACKBURNER, lead.id)),
        ],
    )
    return SectionBlock(
        block_id=block_id_of(Action.ITEM_BLOCK, lead.id),
        text=MarkdownTextObject(text=_summary(item, today, rules, now)),
        accessory=menu,
    )


def lead_lines(items: Sequence[Item], today: date, rules: Rules, now: datetime) -> str:
    lines = [f"• {_summary(item, today, rules, now)}" for item in items[:LIST_LINES]]
    if len(items) > LIST_LINES:
        lines.append(f"_…and {len(items) - LIST_LINES} more_")
    return clip("\n".join(lines), SECTION_TEXT - 200)


def _more(items: Iterable[Item], today: date) -> str:
    names = [item.lead.name for item in items]
    shown = ", ".join(esc(clip(name, 60)) for name in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return f"Also: {shown}{more}"
