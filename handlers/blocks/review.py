"""Block Kit for the managers' weekly review: last week's numbers, the attempt curve, what is waiting.

Within Slack's 50 blocks for a team of any size: up to `REP_SECTIONS` reps get a line each with
mentions; a bigger team is folded into a fixed-width table (names, not mentions, since mentions
don't render inside code) of the `TABLE_ROWS` busiest, the rest counted. The fallback text holds
the whole review in words, so a notification, a screen reader or a failed picture loses nothing.
"""

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from coaching.digest_contents import Review
from coaching.review import KINDS, Figures, RepWeek, TeamWeek, count_of
from coaching.review_records import WeeklyReview
from handlers.blocks.base import MESSAGE_BLOCKS, SECTION_TEXT, Message, button, context, fit, lead_ref, mrkdwn
from handlers.blocks.ids import Action, block_id_of, button_value
from handlers.blocks.orphans import orphan_blocks
from handlers.blocks.text import esc, inert, plural, who

REP_SECTIONS = 8  # a line per rep up to this many; a bigger team gets the table
TABLE_ROWS = 40  # reps in the table; the rest are counted
WAITING_REPS = 10  # reps with something waiting, most pressing first
Names = Callable[[str], str]


def change(now: int, before: int) -> str:
    """The change from the week before: "↑3", "↓2", or nothing when it is the same."""
    if now == before:
        return ""
    return f" ↑{now - before}" if now > before else f" ↓{before - now}"


def _s(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _span(week: TeamWeek) -> str:
    first, last = week.days[0], week.days[-1]
    return f"{first:%a} {first.day} {first:%b} to {last:%a} {last.day} {last:%b}"


def _summary_lines(f: Figures, before: Figures) -> list[str]:
    kinds = ", ".join(count_of(f.by_kind(k), k) for k in KINDS if f.by_kind(k)) or "none"
    touches = f"*{f.touches}* {'touch' if f.touches == 1 else 'touches'}"
    closed = [f"*{f.won}* won{change(f.won, before.won)}", f"*{f.lost}* lost", f"*{f.parked}* parked"]
    return [
        f"{touches}{change(f.touches, before.touches)}: {kinds}",
        f"*{f.conversations}* {_s(f.conversations, 'conversation')}{change(f.conversations, before.conversations)} · "
        f"*{f.meetings_booked}* {_s(f.meetings_booked, 'meeting')} booked"
        f"{change(f.meetings_booked, before.meetings_booked)}",
        " · ".join(closed) + f" · hand-offs *{f.handoffs_in}* in, *{f.handoffs_out}* out",
        f"Follow-ups: *{f.on_time}* on time{change(f.on_time, before.on_time)}, *{f.late}* late"
        f"{change(f.late, before.late)}"
        + (f" (by {plural(f.late_days, 'working day')} in all)" if f.late else ""),
    ]


def _rep_line(rep: RepWeek, name: str) -> str:
    f, b = rep.week, rep.before
    parts = [f"*{f.touches}* {'touch' if f.touches == 1 else 'touches'}{change(f.touches, b.touches)}"]
    if f.conversations:
        parts.append(plural(f.conversations, "conversation"))
    if f.meetings_booked:
        parts.append(f"{f.meetings_booked} booked")
    for count, word in ((f.won, "won"), (f.lost, "lost"), (f.parked, "parked")):
        if count:
            parts.append(f"{count} {word}")
    if f.handoffs_in or f.handoffs_out:
        parts.append(f"hand-offs {f.handoffs_in} in, {f.handoffs_out} out")
    if f.on_time or f.late:
        parts.append(f"follow-ups {f.on_time} on time, {f.late} late")
    return f"{name} · " + " · ".join(parts)


def _table(reps: Sequence[RepWeek], names: Names) -> list[str]:
    """Fixed-width rows for a big team: one rep a line, the week's change beside the touches."""
    head = f"{'rep':<18} {'touches':>11} {'conv':>5} {'booked':>6} {'won':>4} {'lost':>4} {'parked':>6} {'late':>5}"
    rows = [head]
    for rep in reps:
        f = rep.week
        touches = f"{f.touches}{change(f.touches, rep.before.touches)}"
        late = f"{f.late}/{f.on_time + f.late}"
        rows.append(
            f"{names(rep.user_id)[:18]:<18} {touches:>11} {f.conversations:>5} {f.meetings_booked:>6} "
            f"{f.won:>4} {f.lost:>4} {f.parked:>6} {late:>5}"
        )
    return rows


def _code_sections(rows: list[str]) -> list[Block]:
    """Rows in ``` sections, each within Slack's 3,000 characters."""
    sections, chunk = [], [rows[0]]
    for row in rows[1:]:
        if sum(len(r) + 1 for r in chunk) + len(row) + 8 > SECTION_TEXT:
            sections.append(chunk)
            chunk = [rows[0]]
        chunk.append(row)
    sections.append(chunk)
    return [mrkdwn("```" + inert("\n".join(chunk)) + "```") for chunk in sections]


def _reps(week: TeamWeek, names: Names) -> list[Block]:
    if not week.reps:
        return []
    if len(week.reps) <= REP_SECTIONS:
        return [mrkdwn("\n".join(_rep_line(rep, who(rep.user_id)) for rep in week.reps))]
    shown = week.reps[:TABLE_ROWS]
    blocks = _code_sections(_table(shown, names))
    more = len(week.reps) - len(shown)
    note = "touches with the change from the week before; late: follow-ups done late of all done."
    blocks.append(context(note + (f" …and {plural(more, 'more rep')} with fewer touches." if more else "")))
    return blocks


def _curve(r: WeeklyReview) -> list[Block]:
    curve = r.curve
    text = (
        f":chart_with_upwards_trend: *The attempt curve* ({curve.window})\n{curve.headline}\n{curve.reason}"
    )
    blocks: list[Block] = [mrkdwn(text)]
    if curve.suggested is not None:
        blocks.append(
            ActionsBlock(
                block_id=block_id_of(Action.REVIEW_LIMIT_BLOCK, curve.suggested),
                elements=[
                    button(
                        f"Set the limit to {curve.suggested}",
                        Action.REVIEW_SET_LIMIT,
                        button_value(curve.suggested),
                        style="primary",
                    )
                ],
            )
        )
    return blocks


def _waiting(r: Review) -> list[Block]:
    pressing = [
        line
        for line in r.reps
        if line.overdue or line.at_limit or line.stalled or line.stale or line.squatting
    ][:WAITING_REPS]
    blocks: list[Block] = [mrkdwn("*What is waiting*")]
    if not pressing and not r.orphaned:
        blocks.append(mrkdwn("Nothing: no overdue follow-ups, no lead at the limit, nobody squatting."))
    for line in pressing:
        facts = [f"*{line.open}* open"]
        for count, words in (
            (line.overdue, "overdue"),
            (line.at_limit, "at the attempt limit"),
            (line.stalled, "gone quiet"),
            (line.stale, "past the sales cycle"),
        ):
            if count:
                facts.append(f"*{count}* {words}")
        blocks.append(mrkdwn(f"{who(line.owner_id)} · " + " · ".join(facts)))
        for item in line.squatting:
            blocks.append(
                SectionBlock(
                    block_id=block_id_of(Action.SQUAT_BLOCK, item.lead_id),
                    text=MarkdownTextObject(
                        text=f"    :zzz: {lead_ref(item.name)} untouched for {item.idle_days} days"
                    ),
                    accessory=button("Propose transfer", Action.HANDOFF_OPEN, button_value(item.lead_id)),
                )
            )
    for departed, items, more in r.orphaned:
        blocks.append(DividerBlock())
        blocks.extend(
            orphan_blocks(
                departed,
                items,
                more,
                intro=f":ghost: {who(departed)} left: their open leads need a new owner.",
            )
        )
    return blocks


def weekly_review(r: WeeklyReview, *, names: Names, picture: str | None = None) -> Message:
    """The Monday review. `picture` says where the chart is (it follows as a file, or was saved)."""
    week = r.week
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Weekly review · {r.today:%a} {r.today.day} {r.today:%b}")),
        mrkdwn(
            f"*Last week* ({_span(week)}), {plural(len(week.reps), 'rep')}:\n"
            + "\n".join(_summary_lines(week.week, week.before))
        ),
        *_reps(week, names),
        *_curve(r),
        DividerBlock(),
        *_waiting(r.waiting),
    ]
    more = "…more than fits here: `/pipeline @rep` shows each rep's pipeline."
    blocks = fit(blocks, MESSAGE_BLOCKS - 1 if picture else MESSAGE_BLOCKS, more)
    if picture:
        blocks.append(context(f":bar_chart: {picture}"))
    return Message(fallback(r, names=names), tuple(blocks))


def fallback(r: WeeklyReview, *, names: Names) -> str:
    """The whole review in plain words (the notification text, and what a screen reader reads)."""
    week = r.week
    f, b = week.week, week.before
    lines = [f"Weekly review for {_span(week)}.", "Team: " + _plain(_summary_lines(f, b))]
    for rep in week.reps[:TABLE_ROWS]:
        lines.append(_plain([_rep_line(rep, names(rep.user_id))]))
    if len(week.reps) > TABLE_ROWS:
        lines.append(f"…and {plural(len(week.reps) - TABLE_ROWS, 'more rep')}.")
    lines += [r.curve.headline, r.curve.reason]
    waiting = r.waiting
    totals = {
        "overdue": sum(line.overdue for line in waiting.reps),
        "at the attempt limit": sum(line.at_limit for line in waiting.reps),
        "gone quiet": sum(line.stalled for line in waiting.reps),
        "past the sales cycle": sum(line.stale for line in waiting.reps),
        "untouched for weeks": sum(len(line.squatting) for line in waiting.reps),
        "orphaned": sum(len(items) + more for _, items, more in waiting.orphaned),
    }
    said = ", ".join(f"{n} {what}" for what, n in totals.items() if n)
    lines.append(f"Waiting: {said}." if said else "Nothing is waiting.")
    return "\n".join(lines)


def _plain(lines: list[str]) -> str:
    return "; ".join(line.replace("*", "") for line in lines)


def limit_set(block_id: str, before: str, after: str, by: str) -> SectionBlock:
    """Replaces the "Set the limit to N" button once a manager has pressed it."""
    text = f":white_check_mark: The attempt limit is now *{after}* (was {before}), set by {who(by)}."
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text))


def limit_refused(reason: str) -> Message:
    return Message(reason, (mrkdwn(f":raised_hand: {esc(reason)}"),))
