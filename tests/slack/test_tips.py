"""The tip under a /logcall reply, as a rep reads it touch after touch on one lead."""

from itertools import pairwise

from bot.localslack import Shown
from coaching.tips import TIPS, Situation
from tests.conftest import DANA, Harness


def tip(message: Shown) -> str:
    [line] = [
        b["text"]["text"]
        for b in message.blocks
        if b["type"] == "section" and b["text"]["text"].startswith(":bulb:")
    ]
    return line.removeprefix(":bulb: ")


def test_a_rep_chasing_one_lead_never_reads_the_same_tip_twice_in_a_row(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    tips = []
    for outcome in ("vm", "vm", "no-answer", "vm", "vm", "vm", "vm", "vm", "vm", "vm", "vm", "vm"):
        tips.append(tip(harness.command(DANA, "/logcall", f"Acme Corp {outcome}")))
        harness.clock.advance(days=4)
    assert tips[0] in TIPS[Situation.FIRST_TRY]
    assert all(before != after for before, after in pairwise(tips)), tips


def test_a_try_after_a_conversation_gets_follow_up_advice_not_first_try_advice(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/logcall", "Acme Corp connected wants pricing")
    harness.clock.advance(days=2)
    after = tip(harness.command(DANA, "/logcall", "Acme Corp vm sent over the pricing"))
    assert after in TIPS[Situation.FOLLOWING_UP]
    harness.clock.advance(days=2)
    again = tip(harness.command(DANA, "/logcall", "Acme Corp vm"))
    assert again in TIPS[Situation.FOLLOWING_UP] and again != after


def test_the_reminder_email_before_a_meeting_is_coached_as_a_reminder(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    booked = harness.command(DANA, "/logcall", "Acme Corp meeting 2026-12-02 demo with their ops team")
    reminders = [
        line
        for b in booked.blocks
        if b["type"] == "section"
        for line in b["text"]["text"].split("\n")
        if "remind" in line.casefold()
    ]
    assert len(reminders) == 1, reminders  # the next-step line says it; the tip doesn't repeat it
    harness.clock.advance(days=8)  # Tuesday 1 December: the reminder goes out
    reminder = tip(harness.command(DANA, "/logcall", "Acme Corp email confirmed tomorrow's demo"))
    assert reminder in TIPS[Situation.MEETING_AHEAD]
