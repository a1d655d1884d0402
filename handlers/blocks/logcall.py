"""Block Kit for /logcall: the reply to a logged touch, the questions a draft asks, and the /logcall form."""

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from coaching.calendar import MON_FRI, last_working_day_before
from coaching.finding import DraftProblem, DraftRefused, LeadOption, WhichLead
from coaching.rules import Outcome, Rules, Stage, Status
from coaching.snapshots import LeadSnapshot
from coaching.tips import Situation
from coaching.touches import (
    NOTE_LIMIT,
    BadNewLead,
    FutureDate,
    NotADate,
    Reading,
    TouchLogged,
    WhichDate,
    WhichOutcome,
)
from handlers.blocks.base import (
    MODAL_NOTE,
    OPTION_TEXT,
    SECTION_TEXT,
    USAGE,
    Message,
    button,
    context,
    lead_ref,
    mrkdwn,
    plain,
    quote,
    you_typed,
)
from handlers.blocks.ids import Action, block_id_of, button_value
from handlers.blocks.text import (
    OUTCOME_LABEL,
    STATUS_LABEL,
    a_or_an,
    clip,
    day,
    days_ago,
    esc,
    label,
    overdue_text,
    relative,
    who,
)


def attempt_line(lead: LeadSnapshot, stage: Stage, rules: Rules, now: datetime) -> str:
    if lead.opted_out_at is not None:
        return "Opted out: Baton won't nudge you about this lead again"
    if stage is Stage.REACHED:
        spoke = days_ago(lead.last_contact_at, now) if lead.last_contact_at else "recently"
        extra = f" · {lead.attempts} tr{'ies' if lead.attempts != 1 else 'y'} since" if lead.attempts else ""
        return f"In touch · last two-way contact {spoke}{extra}"
    if lead.attempts == 0:
        return f"No attempts yet (limit {rules.attempts_limit})"
    if lead.attempts > rules.attempts_limit:
        return (
            f"Attempt {lead.attempts} · past the limit of {rules.attempts_limit} (cap {rules.attempts_cap})"
        )
    return f"Attempt {lead.attempts} of {rules.attempts_limit}"


def next_step_line(
    lead: LeadSnapshot,
    stage: Stage,
    today: date,
    overdue: int = 0,
    *,
    reader: str | None = None,
    workdays: frozenset[int] = MON_FRI,
) -> str:
    """What comes next; `overdue` is in working days, the one definition every screen uses.

    The meeting reminder goes to the lead's owner on their last working day before the meeting:
    on that day it is due now, and someone logging on a colleague's lead is told who is reminded.
    """
    if lead.meeting_on is not None and lead.meeting_on >= today:
        line = f"Meeting *{day(lead.meeting_on, today)}*"
        if lead.meeting_on > today and lead.opted_out_at is None:
            owner = "you" if reader in (None, lead.owner_id) else who(lead.owner_id)
            if today >= last_working_day_before(lead.meeting_on, workdays):
                ask = "send the client a reminder today" if owner == "you" else f"{owner} is reminded today"
                line += f" — {ask}"
            else:
                line += (
                    f" — Baton will remind {owner} on the working day before to send the client a reminder"
                )
        return line
    if lead.next_follow_up is not None:
        when = overdue_text(overdue) if overdue else relative(lead.next_follow_up, today)
        return f"Next follow-up *{day(lead.next_follow_up, today)}* ({when})"
    if lead.status is not Status.OPEN:
        return f"No follow-up scheduled: the lead is {STATUS_LABEL[lead.status]}"
    if lead.opted_out_at is not None:
        return "No follow-up scheduled"
    if stage is Stage.CAP:
        return "No more follow-ups scheduled: that's the attempt cap"
    return "No follow-up scheduled until you decide what's next"


def _readings(readings: Sequence[Reading], today: date) -> list[str]:
    out = []
    for reading in readings:
        meant = day(reading.meant, today) if isinstance(reading.meant, date) else lead_ref(reading.meant)
        out.append(f"Read “{esc(clip(reading.said, 80))}” as {meant}")
    return out


def touch_logged(result: TouchLogged, now: datetime) -> Message:
    lead = result.lead
    on_day = "" if result.on == result.today else f" ({day(result.on, result.today)})"
    if result.meeting_booked:
        headline = f":calendar: Booked a *meeting* with {lead_ref(lead.name)} for *{day(result.meeting_booked, result.today)}*"
    else:
        logged_as = a_or_an(f"*{OUTCOME_LABEL[result.outcome]}*")
        mark = ":warning:" if result.after_opt_out else ":white_check_mark:"
        headline = f"{mark} Logged {logged_as} on {lead_ref(lead.name)}{on_day}"
    blocks: list[Block] = [mrkdwn(headline)]
    if result.for_someone_else:
        blocks.append(
            mrkdwn(
                f":information_source: {lead_ref(lead.name)} is {who(lead.owner_id)}'s lead, not yours: "
                "the touch goes on their record, and Baton has told them."
            )
        )
    if result.note:
        blocks.append(mrkdwn(quote(result.note)))
    if result.note_cut:
        blocks.extend(_not_kept(result))
    status = attempt_line(lead, result.stage, result.rules, now)
    step = next_step_line(lead, result.stage, result.today, reader=result.logged_by)
    blocks.append(mrkdwn(f"{status}\n{step}"))
    # The opt-out warning below says it once (a tip would say it again); a call with no outcome gets
    # the note below rather than the same advice twice.
    if not result.after_opt_out and (result.outcome_given or result.tip.situation is not Situation.CALL):
        blocks.append(mrkdwn(f":bulb: {result.tip.text}"))
    notes = _readings(result.readings, result.today)
    if not result.outcome_given:
        notes.append(
            "No outcome given, so it's logged as a call attempt. Next time add one: `connected`, `vm`, `no-answer`, `email`…"
        )
    if result.same_day_try:
        notes.append(
            "Tries on the same day count as one attempt: the cadence is one try every few days, "
            "so the attempt count moves on your next day of trying. Every touch stays in the history."
        )
    if result.removed_characters:
        notes.append(f"Removed {result.removed_characters} invisible control character(s) from the text.")
    if lead.status is not Status.OPEN:
        notes.append(f"This lead is {STATUS_LABEL[lead.status]}. `/lead reopen` puts it back in play.")
    if result.after_opt_out:
        notes.append(
            ":warning: This contact asked not to be contacted: the touch is saved, with no follow-up or "
            "meeting reminder. Don't reach out again unless they get in touch first; if someone new "
            "there takes over, `/handoff LEAD contact NAME` starts afresh with them."
        )
    if notes:
        blocks.append(context(*notes))
    actions = _next_actions(result)
    if actions:
        blocks.append(
            ActionsBlock(block_id=block_id_of(Action.LOGGED_BLOCK, result.touch_id), elements=actions)
        )
    fallback = f"Logged {a_or_an(OUTCOME_LABEL[result.outcome])} on {lead.name}. {status}."
    return Message(fallback, tuple(blocks))


CUT_SHOWN = 8  # sections of the cut-off part shown back (2,900 characters each): 23,200 in all


def _not_kept(result: TouchLogged) -> list[Block]:
    """A note past the limit: say what was kept, and give the rest back so nothing typed is lost."""
    cut = result.note_cut
    kept = len(result.note)
    blocks: list[Block] = [
        mrkdwn(
            f":scissors: Your note was {kept + len(cut):,} characters; a touch keeps {NOTE_LIMIT:,}, so Baton "
            f"saved the first {kept:,}. The rest is below, to keep or log as another touch:"
        )
    ]
    shown = 0
    while shown < len(cut) and len(blocks) <= CUT_SHOWN:
        size = 2900
        while len(esc(cut[shown : shown + size])) > SECTION_TEXT - 6:  # escaping lengthens & < >
            size //= 2
        blocks.append(mrkdwn(f"```{esc(cut[shown : shown + size])}```"))
        shown += size
    if shown < len(cut):
        blocks.append(context(f"…and {len(cut) - shown:,} more characters, too long to show here."))
    return blocks


def touch_on_your_lead(result: TouchLogged, now: datetime) -> Message:
    """Told to a lead's owner when a colleague logs a touch on it."""
    lead = result.lead
    logged = a_or_an(f"*{OUTCOME_LABEL[result.outcome]}*")
    on_day = "" if result.on == result.today else f" ({day(result.on, result.today)})"
    if result.meeting_booked:
        logged = f"a *meeting* for *{day(result.meeting_booked, result.today)}*"
    blocks: list[Block] = [
        mrkdwn(f":eyes: {who(result.logged_by)} logged {logged} on your lead {lead_ref(lead.name)}{on_day}.")
    ]
    if result.note:
        blocks.append(mrkdwn(quote(result.note)))
    status = attempt_line(lead, result.stage, result.rules, now)
    blocks.append(context(f"{status} · {next_step_line(lead, result.stage, result.today)}"))
    blocks.append(ActionsBlock(elements=[button("Show the lead", Action.LEAD_SHOW, button_value(lead.id))]))
    return Message(
        f"A colleague logged {a_or_an(OUTCOME_LABEL[result.outcome])} on {lead.name}", tuple(blocks)
    )


def _next_actions(result: TouchLogged) -> list[ButtonElement]:
    lead_id = str(result.lead.id)
    if result.lead.status is not Status.OPEN:
        return []
    if result.outcome in (Outcome.NOT_INTERESTED, Outcome.OPT_OUT):
        return [
            button("Close as lost", Action.LEAD_LOST, lead_id),
            button("Back-burner", Action.LEAD_BACKBURNER, lead_id),
        ]
    if result.stage in (Stage.INSIST, Stage.CAP):
        return [button("Back-burner", Action.LEAD_BACKBURNER, lead_id, style="primary")]
    return []


def which_lead(choice: WhichLead) -> Message:
    typed = f"“{esc(clip(choice.lead_text, 100))}”"
    buttons = [
        button(_option_label(option), Action.DRAFT_PICK, button_value(choice.draft_id, option.lead_id))
        for option in choice.options
    ]
    if choice.unknown:
        if not choice.lead_text:
            command = choice.command.partition(".")[0]
            usage = USAGE.get(command, USAGE["logcall"])
            return plain(f"Which lead? Usage: {usage} · more: `/coach help`")
        headline = f":mag: I couldn't find a lead called {typed}."
        if buttons:
            headline += " Did you mean one of these?"
        if choice.can_add:
            buttons.append(
                button(
                    f"Add “{choice.lead_text}” as a new lead", Action.DRAFT_ADD, button_value(choice.draft_id)
                )
            )
        hint = "Nothing is lost: pick an option and Baton finishes what you typed."
        if not buttons:
            hint = "Check the spelling, see your leads with `/pipeline`, or add one with `/lead add NAME`."
    else:
        headline = f":thinking_face: {typed} matches more than one lead. Which did you mean?"
        hint = "Nothing is lost: pick one and Baton finishes what you typed."
        if choice.more:
            hint = f"{choice.more} more match — type more of the name to narrow it down. " + hint
    blocks: list[Block] = [mrkdwn(headline)]
    if buttons:
        blocks.append(
            ActionsBlock(block_id=block_id_of(Action.DRAFT_BLOCK, choice.draft_id), elements=buttons)
        )
    blocks.append(context(hint))
    names = ", ".join(option.name for option in choice.options)
    fallback = f"Which lead did you mean by {choice.lead_text!r}? {names}".strip()
    return Message(clip(fallback, 500), tuple(blocks))


def _option_label(option: LeadOption) -> str:
    if option.status is Status.OPEN:
        return option.name
    return f"{option.name} ({STATUS_LABEL[option.status]})"


def future_date(result: FutureDate) -> Message:
    today = result.today
    value = button_value(result.draft_id, result.lead.id)
    on_day = day(result.on, today)
    text = (
        f":calendar: *{on_day}* is in the future, and only a meeting can be. "
        f"What happened with {lead_ref(result.lead.name)}?"
    )
    return Message(
        f"{on_day} is in the future: book a meeting, or log it for today?",
        (
            mrkdwn(text),
            ActionsBlock(
                block_id=block_id_of(Action.DRAFT_BLOCK, result.draft_id),
                elements=[
                    button(f"Book a meeting for {on_day}", Action.DRAFT_AS_MEETING, value, style="primary"),
                    button(
                        f"It was {a_or_an(OUTCOME_LABEL[result.outcome])} today", Action.DRAFT_AS_TODAY, value
                    ),
                ],
            ),
            context("Nothing is lost: pick one and Baton logs your note with it."),
        ),
    )


def _plain_label(label: str) -> str:
    """ "a voicemail", "an email", "not interested" (an outcome that is a quote takes no article)."""
    bare = label.strip('“”"')
    return bare if bare != label else a_or_an(label)


def which_outcome(result: WhichOutcome) -> Message:
    """A word that looks like a misspelt outcome: asked with buttons, like an unknown lead."""
    value = button_value(result.draft_id, result.lead.id)
    said = esc(clip(result.said, 60))
    meant = OUTCOME_LABEL[result.guess]
    return Message(
        f"Did you mean {meant} by “{result.said[:60]}”?",
        (
            mrkdwn(f":thinking_face: Did you mean a *{meant}* by “{said}” on {lead_ref(result.lead.name)}?"),
            ActionsBlock(
                block_id=block_id_of(Action.DRAFT_BLOCK, result.draft_id),
                elements=[
                    # No quotes inside a label: a label is often shown quoted ("you pressed …").
                    button(f"Yes, {_plain_label(meant)}", Action.DRAFT_AS_GUESSED, value, style="primary"),
                    button("No, it's part of the note", Action.DRAFT_AS_NOTE, value),
                ],
            ),
            context("Nothing is logged until you pick one; your note is kept either way."),
        ),
    )


def which_date(result: WhichDate) -> Message:
    """A date like 3/11 that reads two ways: both are offered."""
    value = button_value(result.draft_id, result.lead.id)
    first, second = day(result.month_first, result.today), day(result.day_first, result.today)
    return Message(
        f"“{result.said}”: {first} or {second}?",
        (
            mrkdwn(
                f":calendar: “{esc(clip(result.said, 20))}” could be *{first}* or *{second}*. Which did you mean?"
            ),
            ActionsBlock(
                block_id=block_id_of(Action.DRAFT_BLOCK, result.draft_id),
                elements=[
                    button(first, Action.DRAFT_MONTH_FIRST, value),
                    button(second, Action.DRAFT_DAY_FIRST, value),
                ],
            ),
            context("Write dates as 2026-11-03 and Baton never has to ask."),
        ),
    )


def not_a_date(result: NotADate, typed: str) -> Message:
    return Message(
        f"{result.said} isn't a date Baton knows.",
        (
            mrkdwn(
                f":calendar: “{esc(clip(result.said, 40))}” isn't a date Baton knows. "
                "Use `today`, `yesterday`, a weekday (`tuesday`, `next friday`) or `YYYY-MM-DD`."
            ),
            *you_typed(typed),
        ),
    )


def draft_refused(result: DraftRefused) -> Message:
    text = {
        DraftProblem.MISSING: "That request has expired or belongs to another workspace. Nothing was changed.",
        DraftProblem.NOT_YOURS: "Those buttons belong to someone else's message. Nothing was changed.",
        DraftProblem.USED: "Already done: Baton doesn't log the same thing twice.",
    }[result.problem]
    return plain(text)


def bad_new_lead(result: BadNewLead) -> Message:
    return plain(f":warning: {result.reason}")


OUTCOME_CHOICES = (
    (Outcome.CALL, "Call (outcome unknown)"),
    (Outcome.CONNECTED, "Connected: we spoke"),
    (Outcome.VOICEMAIL, "Left a voicemail"),
    (Outcome.NO_ANSWER, "No answer"),
    (Outcome.EMAIL, "Sent an email"),
    (Outcome.REPLIED, "They replied"),
    (Outcome.MEETING, "Meeting (held, or booked for a future date)"),
    (Outcome.NOT_INTERESTED, "Not interested"),
    (Outcome.OPT_OUT, "Asked not to be contacted"),
)


def lead_option(lead_id: int, name: str) -> Option:
    return Option(text=label(name, OPTION_TEXT), value=str(lead_id))


def logcall_modal(
    *,
    today: date,
    channel_id: str | None,
    lead: tuple[int, str] | None = None,
    refresh: tuple[str, str] | None = None,
    home: bool = False,
) -> View:
    picker = ExternalDataSelectElement(
        action_id=Action.LEAD_SEARCH,
        placeholder="Type part of the lead's name",
        min_query_length=0,
        initial_option=lead_option(*lead) if lead else None,
    )
    outcomes = [Option(text=text, value=outcome.value) for outcome, text in OUTCOME_CHOICES]
    blocks: list[Block] = [
        InputBlock(block_id=Action.FIELD_LEAD, label="Lead", element=picker),
        InputBlock(
            block_id=Action.FIELD_OUTCOME,
            label="What happened?",
            element=StaticSelectElement(
                action_id=Action.FIELD_OUTCOME, options=outcomes, initial_option=outcomes[0]
            ),
        ),
        InputBlock(
            block_id=Action.FIELD_ON,
            label="When",
            element=DatePickerElement(action_id=Action.FIELD_ON, initial_date=today.isoformat()),
            hint="A future date books a meeting.",
        ),
        InputBlock(
            block_id=Action.FIELD_NOTE,
            label="Note",
            optional=True,
            element=PlainTextInputElement(action_id=Action.FIELD_NOTE, multiline=True, max_length=MODAL_NOTE),
        ),
    ]
    return View(
        type="modal",
        callback_id=Action.LOGCALL_MODAL,
        title="Log a touch",
        submit="Log it",
        close="Cancel",
        blocks=blocks,
        # Where to show the result afterwards: the channel, a digest to refresh, or the Home tab.
        private_metadata=json.dumps(
            {"channel": channel_id, "refresh": list(refresh) if refresh else None, "home": home}
        ),
    )


def lead_options(leads: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    return [lead_option(lead_id, name).to_dict() for lead_id, name in list(leads)[:100]]


SLOW = "slow"  # not a lead id: picking it leaves the form asking for a lead


def slow_lead_options() -> list[dict[str, Any]]:
    """The one option shown when the search could not answer in time; typing again retries."""
    return [Option(text="The database is slow right now: try again", value=SLOW).to_dict()]
