"""Replies read whole, as the person reads them: the wording fixes of issue 12."""

from bot.localslack import Shown
from tests.conftest import DANA, MORGAN, SAM, Harness, flatten


def headline(message: Shown) -> str:
    return str(message.blocks[0]["text"]["text"])


def field(message: Shown, name: str) -> str:
    """One field of a lead card, e.g. "Attempts", as shown."""
    fields = [f["text"] for b in message.blocks for f in b.get("fields") or []]
    [shown] = [f for f in fields if f.startswith(f"*{name}*\n")]
    return str(shown.split("\n", 1)[1])


def test_outcomes_take_the_right_article(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    assert headline(harness.command(DANA, "/logcall", "Acme Corp email")) == (
        ":white_check_mark: Logged an *email* on *Acme Corp*"
    )
    assert headline(harness.command(DANA, "/logcall", "Acme Corp vm")) == (
        ":white_check_mark: Logged a *voicemail* on *Acme Corp*"
    )
    optout = harness.command(DANA, "/logcall", "Acme Corp opt-out")
    assert headline(optout) == ":white_check_mark: Logged an *opt-out* on *Acme Corp*"
    assert optout.text.startswith("Logged an opt-out on Acme Corp.")


def test_a_lead_nobody_has_tried_yet_says_so_instead_of_attempt_zero(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    card = harness.command(DANA, "/lead", "show Acme Corp")
    assert field(card, "Attempts") == "No attempts yet (limit 8)"


def test_the_pipeline_never_shows_attempts_as_a_fraction_past_the_limit(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    for _ in range(9):
        harness.command(DANA, "/logcall", "Acme Corp no-answer")
        harness.clock.advance(days=1)
    pipeline = flatten(harness.command(DANA, "/pipeline").blocks)
    assert "9 attempts, past the limit of 8" in pipeline
    assert "9/8" not in pipeline and "attempt 9" not in pipeline


def test_the_comma_hint_only_when_baton_guessed_the_split(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    with_comma = harness.command(DANA, "/lead", "contact Acme Corp Raj Patel, Procurement lead")
    assert flatten(with_comma.blocks) == (
        ":bust_in_silhouette: Saved Raj Patel, Procurement lead on *Acme Corp*.\n"
        "Read as person “Raj Patel”, role “Procurement lead”."
    )
    guessed = harness.command(DANA, "/lead", "contact Acme Corp Bill Lumbergh CFO dm")
    assert flatten(guessed.blocks) == (
        ":bust_in_silhouette: Saved Bill Lumbergh, CFO · *decision-maker* on *Acme Corp*.\n"
        "Read as person “Bill Lumbergh”, role “CFO”, decision-maker. "
        "Wrong split? Put a comma after the name: `Jane Doe, VP Sales`."
    )


def test_talking_to_shows_the_decision_maker_first(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/lead", "contact Acme Corp Bill Lumbergh, CFO dm")
    harness.command(DANA, "/lead", "contact Acme Corp Raj Patel, Procurement")
    card = harness.command(DANA, "/lead", "show Acme Corp")
    assert field(card, "Talking to") == "Bill Lumbergh, CFO · *decision-maker*\nRaj Patel, Procurement"


def test_a_touch_on_a_colleagues_lead_is_flagged_to_the_rep_and_told_to_the_owner(harness: Harness) -> None:
    harness.command(SAM, "/lead", "add Acme Corp")
    reply = harness.command(DANA, "/logcall", "Acme Corp vm left a message about Q3")
    assert reply.blocks[1]["text"]["text"] == (
        ":information_source: *Acme Corp* is <@U0SAM>'s lead, not yours: "
        "the touch goes on their record, and Baton has told them."
    )
    [told] = harness.dms(SAM)
    assert flatten(told.blocks) == (
        ":eyes: <@U0DANA> logged a *voicemail* on your lead *Acme Corp*.\n"
        "> left a message about Q3\n"
        "Attempt 1 of 8 · Next follow-up *Fri 27 Nov* (in 4 days)\n"
        "Show the lead"
    )
    harness.command(SAM, "/logcall", "Acme Corp email")
    assert len(harness.dms(SAM)) == 1  # the owner's own touches tell nobody


def test_empty_commands_point_to_their_usage_and_to_help(harness: Harness) -> None:
    assert flatten(harness.command(DANA, "/logcall", '""').blocks) == (
        "Which lead? Usage: `/logcall LEAD [outcome] [date] [note…]` — e.g. "
        "`/logcall Acme Corp voicemail left a message` · more: `/coach help`"
    )
    assert flatten(harness.command(DANA, "/lead", 'show ""').blocks) == (
        "Which lead? Usage: `/lead add|show|find|won|lost|backburner|reopen|contact|optout NAME …` — "
        "e.g. `/lead add Acme Corp` · more: `/coach help`"
    )


def test_coach_help_lists_every_subcommand(harness: Harness) -> None:
    shown = flatten(harness.command(DANA, "/coach", "help").blocks)
    for command in (
        "/logcall acme",
        "/lead add",
        "/lead show",
        "/lead find",
        "/lead won",
        "/lead lost",
        "/lead backburner",
        "/lead reopen",
        "/lead contact",
        "/lead optout",
        "/pipeline",
        "/handoff acme @sam",
        "/handoff acme @me",
        "/handoff acme ops",
        "/handoff acme contact",
        "/coach settings",
        "/coach set",
        "/coach reset",
        "/coach managers add",
        "/coach managers remove",
        "/coach me",
    ):
        assert f"`{command}" in shown, command


def test_a_manager_channel_set_by_name_is_shown_as_the_channel(harness: Harness) -> None:
    harness.api.workspace.channels["C0SALESMGR"] = "sales-managers"
    reply = harness.command(MORGAN, "/coach", "set manager_channel #sales-managers")
    assert flatten(reply.blocks) == ":white_check_mark: Saved.\n• *manager_channel*: none → *<#C0SALESMGR>*"
    unknown = harness.command(MORGAN, "/coach", "set ops_channel #nope")
    assert flatten(unknown.blocks).split("\n")[1] == (
        "• ops_channel must be a channel Slack knows: #nope isn't one here (check the name, or pick it "
        "from the list Slack offers as you type), or give its id like C0123ABCD"
    )


def test_reset_says_from_what_to_which_default(harness: Harness) -> None:
    harness.command(MORGAN, "/coach", "set stall_days 30")
    reply = harness.command(MORGAN, "/coach", "reset stall_days")
    assert flatten(reply.blocks) == ":white_check_mark: Saved.\n• *stall_days*: 30 → *14* (the default)"
    again = harness.command(MORGAN, "/coach", "reset stall_days")
    assert flatten(again.blocks) == "Nothing changed: *stall_days* is already the default, 14."


def test_no_reply_on_the_way_shows_a_raw_special_mention(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    replies = [
        harness.command(DANA, "/logcall", "Acme Corp vm told @here about it"),
        harness.command(DANA, "/lead", "show Acme Corp"),
    ]
    for reply in replies:
        assert "<!" not in flatten(reply.blocks) and "&lt;!" not in flatten(reply.blocks)
    assert "> told @here about it" in flatten(replies[0].blocks)
