"""Block Kit for the Home tab: today's work, what's coming, wins; and the team, for managers."""

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from coaching.home import HomeView
from coaching.home import Team as HomeTeam
from coaching.rules import Rules
from handlers.blocks.base import LIST_LINES, VIEW_BLOCKS, button, context, fit, lead_ref, mrkdwn
from handlers.blocks.digest import SECTION_TITLE, digest_buttons, item_line
from handlers.blocks.handoffs import context_line, transfer_headline
from handlers.blocks.ids import Action, block_id_of, button_value
from handlers.blocks.pipeline import lead_lines
from handlers.blocks.text import days_ago, esc, last_touch, who

HOME_ITEMS = 10  # today's items shown with their buttons (two blocks each)


def home(view: HomeView, rules: Rules, now: datetime, *, note: str | None = None) -> View:
    """The Home tab: what needs doing today, what's coming, wins; and the team, for managers."""
    pipe = view.pipeline
    today = pipe.today
    tally = pipe.counts  # the one definition: these add up to the open count, as /pipeline's do
    counts = [
        f"*{tally.open}* open",
        f"*{tally.overdue}* overdue",
        f"*{tally.due_today}* due today",
        f"*{tally.upcoming}* upcoming",
    ]
    if tally.to_decide:
        counts.append(f"*{tally.to_decide}* to decide")
    counts.append(f"*{len(pipe.backburner)}* on the back-burner")
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Your pipeline")),
        context(f"{today:%A} {today.day} {today:%B} · " + " · ".join(counts)),
        ActionsBlock(
            block_id=Action.HOME_ACTIONS_BLOCK,
            elements=[button("Log a touch", Action.HOME_LOGCALL, "home", style="primary")],
        ),
    ]
    if note:
        blocks.append(context(f":white_check_mark: {esc(note)}"))
    blocks.append(DividerBlock())
    digest_today = view.today
    if digest_today.is_empty:
        blocks.append(mrkdwn(":sparkles: *Nothing needs you today.* Every lead is on track."))
    else:
        blocks.append(mrkdwn(f"*Needs you today* ({digest_today.total})"))
        shown = 0
        for section, items, more in digest_today.sections:
            blocks.append(mrkdwn(SECTION_TITLE[section]))
            for item in items:
                if shown == HOME_ITEMS:
                    break
                blocks.append(
                    SectionBlock(
                        block_id=block_id_of(Action.ITEM_BLOCK, item.lead_id),
                        text=MarkdownTextObject(text=item_line(item, rules, today)),
                    )
                )
                blocks.append(digest_buttons(item))
                shown += 1
            left = more + max(0, len(items) - shown) if shown == HOME_ITEMS else more
            if left:
                blocks.append(context(f"…and {left} more: `/pipeline`"))
    if pipe.upcoming:
        blocks.append(DividerBlock())
        blocks.append(
            mrkdwn(
                f":spiral_calendar_pad: *Upcoming* ({len(pipe.upcoming)})\n"
                + lead_lines(pipe.upcoming, today, rules, now)
            )
        )
    if pipe.undecided:
        # Counted as "to decide" above, so listed: the attempt cap, a "no", an opt-out.
        blocks.append(DividerBlock())
        blocks.append(
            mrkdwn(
                f":thinking_face: *To decide* ({len(pipe.undecided)}): nothing scheduled\n"
                + lead_lines(pipe.undecided, today, rules, now)
            )
        )
    if pipe.backburner:
        blocks.append(
            mrkdwn(
                f":fire: *Back-burner* ({len(pipe.backburner)})\n"
                + lead_lines(pipe.backburner, today, rules, now)
            )
        )
    if view.wins:
        wins = "\n".join(
            f"• {lead_ref(lead.name)} · won {days_ago(lead.closed_at, now) if lead.closed_at else ''}"
            for lead in view.wins
        )
        blocks.append(mrkdwn(f":trophy: *Recent wins*\n{wins}"))
    if view.team is not None:
        blocks.extend(_team(view.team))
    blocks.append(
        context(
            "`/logcall acme vm …` logs a touch · `/lead show acme` · `/handoff acme @sam` · `/coach help`"
        )
    )
    blocks = fit(blocks, VIEW_BLOCKS, "…more than fits here: `/pipeline` has it all.")
    return View(type="home", blocks=blocks)


def _team(team: HomeTeam) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text=PlainTextObject(text="Your team"))]
    if team.reps:
        lines = []
        for rep in team.reps[:LIST_LINES]:
            facts = [f"*{rep.open}* open"]
            facts += [f"*{rep.overdue}* overdue"] if rep.overdue else []
            facts += [f"*{rep.at_limit}* at the limit"] if rep.at_limit else []
            facts += [f"*{rep.stale}* past the cycle"] if rep.stale else []
            lines.append(f"• {who(rep.owner_id)} · " + " · ".join(facts))
        if len(team.reps) > LIST_LINES:
            lines.append(f"_…and {len(team.reps) - LIST_LINES} more reps_")
        blocks.append(mrkdwn("\n".join(lines)))
    if team.waiting:
        blocks.append(mrkdwn(f":handshake: *Hand-offs waiting for a decision* ({len(team.waiting)})"))
        for transfer in team.waiting:
            blocks.append(mrkdwn(transfer_headline(transfer) + f"\n{context_line(transfer)}"))
            value = button_value(transfer.id)
            blocks.append(
                ActionsBlock(
                    block_id=block_id_of(Action.TRANSFER_BLOCK, transfer.id),
                    elements=[
                        button("Approve", Action.TRANSFER_APPROVE, value, style="primary"),
                        button("Reject", Action.TRANSFER_REJECT, value, style="danger"),
                    ],
                )
            )
    if team.orphaned:
        blocks.append(mrkdwn(":ghost: *Leads whose owner left*: pick someone for each"))
        for departed, item in team.orphaned:
            picker = UserSelectElement(action_id=Action.ORPHAN_REASSIGN, placeholder="Reassign to…")
            text = f"{lead_ref(item.name)} · was {who(departed)}'s · {last_touch(item.touched_days)}"
            blocks.append(
                SectionBlock(
                    block_id=block_id_of(Action.ORPHAN_BLOCK, item.lead_id),
                    text=MarkdownTextObject(text=text),
                    accessory=picker,
                )
            )
    return blocks
