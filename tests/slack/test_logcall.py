"""/logcall as a rep uses it: signed requests through the real app, replies read off the stand-in Slack."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.localslack import Shown
from handlers.blocks.ids import Action
from store.models import Draft, Lead, Touch
from tests.conftest import DANA, KENJI, SAM, Harness


def add(h: Harness, name: str, user: str = DANA) -> None:
    h.command(user, "/lead", f"add {name}")


def touches(h: Harness) -> list[Touch]:
    with h.db.readers.begin() as session:
        return list(session.scalars(select(Touch).order_by(Touch.id)))


def lead(h: Harness, name: str) -> Lead:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead).where(Lead.name == name)).one()


def buttons(message: Shown) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["text"]["text"])
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


# ---- the one-line forms from the issue, each as a rep types it -------------------------------------


def test_a_bare_lead_name_logs_a_call_today_and_says_no_outcome_was_given(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(DANA, "/logcall", "Acme Corp")
    text = harness.seen_text(reply)
    assert "Logged a *call* on *Acme Corp*" in text
    assert "Attempt 1 of 8" in text
    assert "No outcome given" in text
    [touch] = touches(harness)
    assert (touch.outcome, touch.user_id, touch.at) == ("call", DANA, harness.clock.now)


def test_a_voicemail_with_a_note_gives_the_next_follow_up_and_a_tip(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(DANA, "/logcall", "Acme Corp voicemail left a message about Q3 pricing")
    text = harness.seen_text(reply)
    assert "Logged a *voicemail*" in text
    assert "> left a message about Q3 pricing" in text
    assert "Next follow-up *Fri 27 Nov* (in 4 days)" in text
    assert ":bulb:" in text
    assert touches(harness)[0].note == "left a message about Q3 pricing"


def test_case_and_a_unique_start_of_the_name_are_enough(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(DANA, "/logcall", "acme no-answer")
    text = harness.seen_text(reply)
    assert "Logged a *call with no answer* on *Acme Corp*" in text
    assert "Read “acme” as *Acme Corp*" in text


def test_a_past_date_and_a_conversation_are_logged_on_that_day(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(
        DANA, "/logcall", "Acme Corp connected 2026-11-18 talked to the CFO, wants a demo"
    )
    text = harness.seen_text(reply)
    assert "Logged a *conversation* on *Acme Corp* (Wed 18 Nov)" in text
    assert "In touch" in text
    [touch] = touches(harness)
    assert touch.at == datetime(2026, 11, 18, 17, 0, tzinfo=UTC)  # local noon in New York
    assert touch.note == "talked to the CFO, wants a demo"


def test_a_quoted_name_and_yesterday_work(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(DANA, "/logcall", '"Acme Corp" email yesterday sent the case study')
    assert "Logged an *email* on *Acme Corp* (yesterday)" in harness.seen_text(reply)
    assert touches(harness)[0].note == "sent the case study"


def test_a_future_meeting_date_books_the_meeting(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(DANA, "/logcall", "Acme Corp meeting 2026-12-02 demo with their ops team")
    text = harness.seen_text(reply)
    assert "Booked a *meeting* with *Acme Corp* for *Wed 2 Dec*" in text
    assert "remind you on the working day before" in text
    booked = lead(harness, "Acme Corp")
    assert booked.meeting_on == date(2026, 12, 2)
    assert booked.reached


def test_the_attempt_count_runs_until_someone_is_reached(harness: Harness) -> None:
    add(harness, "Globex")
    for _ in range(5):
        harness.clock.advance(days=4)
        reply = harness.command(DANA, "/logcall", "globex vm")
    assert "Attempt 5 of 8" in harness.seen_text(reply)
    harness.clock.advance(days=4)
    reply = harness.command(DANA, "/logcall", "globex vm")
    assert "Attempt 6 of 8" in harness.seen_text(reply)
    assert (
        "attempt limit" in harness.seen_text(reply).lower()
        or "few more tries" in harness.seen_text(reply).lower()
    )
    harness.clock.advance(days=4)
    harness.command(DANA, "/logcall", "globex vm")
    harness.clock.advance(days=4)
    reply = harness.command(DANA, "/logcall", "globex no-answer")
    assert "Attempt 8 of 8" in harness.seen_text(reply)
    assert (Action.LEAD_BACKBURNER, "Back-burner") in buttons(reply)


def test_the_reps_own_time_zone_decides_what_today_is(harness: Harness) -> None:
    add(harness, "Acme Corp", user=KENJI)
    harness.clock.now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # Tuesday 05:00 in Tokyo
    harness.command(KENJI, "/logcall", "acme vm")
    assert lead(harness, "Acme Corp").next_follow_up == date(2026, 11, 30)  # Tuesday + 4 is a Saturday
    reply = harness.command(KENJI, "/logcall", "acme email monday sent the deck")
    assert "(yesterday)" in harness.seen_text(reply)  # Monday is yesterday in Tokyo


# ---- when Baton has to ask ----------------------------------------------------------------------------


def test_an_unknown_lead_suggests_the_closest_and_finishes_with_the_original_note(harness: Harness) -> None:
    add(harness, "Acme Corp")
    add(harness, "Globex")
    reply = harness.command(DANA, "/logcall", "Acmee Corp voicemail asked about Q3 pricing")
    text = harness.seen_text(reply)
    assert "couldn't find a lead called “Acmee Corp”" in text
    assert (Action.DRAFT_PICK, "Acme Corp") in buttons(reply)
    assert touches(harness) == []
    done = harness.click(DANA, reply, Action.DRAFT_PICK)
    assert done.id == reply.id  # the question is replaced by the answer
    assert "Logged a *voicemail* on *Acme Corp*" in harness.seen_text(done)
    assert touches(harness)[0].note == "asked about Q3 pricing"


def test_an_unknown_lead_can_be_added_on_the_spot(harness: Harness) -> None:
    reply = harness.command(DANA, "/logcall", "Initrode voicemail left a message")
    added = harness.click(DANA, reply, Action.DRAFT_ADD)
    assert "Logged a *voicemail* on *Initrode*" in harness.seen_text(added)
    assert lead(harness, "Initrode").owner_id == DANA


def test_several_matching_leads_are_offered_as_buttons(harness: Harness) -> None:
    add(harness, "Acme Corp")
    add(harness, "Acme Logistics")
    reply = harness.command(DANA, "/logcall", "acme connected spoke to Jo")
    assert {label for _, label in buttons(reply)} == {"Acme Corp", "Acme Logistics"}
    done = harness.click(DANA, reply, Action.DRAFT_PICK, value=reply.blocks[1]["elements"][1]["value"])
    assert "on *Acme Logistics*" in harness.seen_text(done)
    assert touches(harness)[0].note == "spoke to Jo"


def test_a_double_click_logs_once(harness: Harness) -> None:
    add(harness, "Acme Corp")
    add(harness, "Acme Logistics")
    reply = harness.command(DANA, "/logcall", "acme vm")
    stale = Shown(**{**reply.__dict__})  # the same buttons, pressed again from a second device
    harness.click(DANA, reply, Action.DRAFT_PICK)
    again = harness.click(DANA, stale, Action.DRAFT_PICK)
    assert "Already done" in harness.seen_text(again)
    assert len(touches(harness)) == 1


def test_someone_elses_buttons_change_nothing(harness: Harness) -> None:
    add(harness, "Acme Corp")
    add(harness, "Acme Logistics")
    reply = harness.command(DANA, "/logcall", "acme vm")
    answer = harness.click(SAM, reply, Action.DRAFT_PICK)
    assert "belong to someone else" in harness.seen_text(answer)
    assert touches(harness) == []


def test_a_future_date_on_a_call_asks_whether_it_was_a_meeting(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(DANA, "/logcall", "acme connected 2026-12-02 agreed on a demo")
    assert "only a meeting can be" in harness.seen_text(reply)
    assert touches(harness) == []
    booked = harness.click(DANA, reply, Action.DRAFT_AS_MEETING)
    assert "Booked a *meeting*" in harness.seen_text(booked)
    assert touches(harness)[0].note == "agreed on a demo"


def test_an_impossible_date_is_explained_and_the_text_given_back(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.command(DANA, "/logcall", "acme connected 2026-02-30 long note I don't want to retype")
    text = harness.seen_text(reply)
    assert "“2026-02-30” isn't a date" in text
    assert "long note I don't want to retype" in text
    assert touches(harness) == []


def test_drafts_left_behind_belong_to_the_person_who_typed(harness: Harness) -> None:
    harness.command(DANA, "/logcall", "Nobody Inc vm")
    with harness.db.readers.begin() as session:
        draft = session.scalars(select(Draft)).one()
    assert (draft.user_id, draft.lead_text, draft.rest, draft.used_at) == (DANA, "Nobody Inc", "vm", None)


# ---- the modal -------------------------------------------------------------------------------------------


def test_logcall_alone_opens_a_modal_that_logs_the_touch(harness: Harness) -> None:
    add(harness, "Acme Corp")
    harness.clock.advance(hours=1)
    view = harness.modal(DANA, "/logcall")
    assert view["callback_id"] == Action.LOGCALL_MODAL
    _, options = harness.slack.suggest(DANA, view, Action.LEAD_SEARCH, "acm")
    assert [o["text"]["text"] for o in options] == ["Acme Corp"]
    values = {
        "lead": {Action.LEAD_SEARCH: {"type": "external_select", "selected_option": options[0]}},
        "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": "replied"}}},
        "on": {"on": {"type": "datepicker", "selected_date": "2026-11-23"}},
        "note": {"note": {"type": "plain_text_input", "value": "Wants pricing for 40 seats"}},
    }
    reply = harness.slack.submit(DANA, view, values)
    assert reply.status == 200 and reply.json.get("response_action") is None
    assert touches(harness)[0].note == "Wants pricing for 40 seats"
    result = harness.api.seen_by(DANA)[-1]
    assert result.ephemeral and result.channel == "C0GENERAL"
    assert "Logged a *reply* on *Acme Corp*" in harness.seen_text(result)


def test_the_modal_keeps_a_future_non_meeting_date_in_place_with_a_message(harness: Harness) -> None:
    add(harness, "Acme Corp")
    view = harness.modal(DANA, "/logcall")
    _, options = harness.slack.suggest(DANA, view, Action.LEAD_SEARCH, "")
    values = {
        "lead": {Action.LEAD_SEARCH: {"type": "external_select", "selected_option": options[0]}},
        "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": "voicemail"}}},
        "on": {"on": {"type": "datepicker", "selected_date": "2026-12-01"}},
        "note": {"note": {"type": "plain_text_input", "value": None}},
    }
    reply = harness.slack.submit(DANA, view, values)
    assert reply.json["response_action"] == "errors"
    assert "Only a meeting" in reply.json["errors"]["on"]
    assert touches(harness) == []


def test_a_modal_result_reaches_the_rep_by_dm_when_the_channel_refuses_ephemeral_posts(
    harness: Harness,
) -> None:
    add(harness, "Acme Corp")
    harness.api.workspace.closed_channels.add("C0SALES")
    view = harness.modal(DANA, "/logcall", channel="C0SALES")
    _, options = harness.slack.suggest(DANA, view, Action.LEAD_SEARCH, "acme")
    harness.slack.submit(
        DANA,
        view,
        {
            "lead": {Action.LEAD_SEARCH: {"type": "external_select", "selected_option": options[0]}},
            "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": "email"}}},
            "on": {"on": {"type": "datepicker", "selected_date": "2026-11-23"}},
            "note": {"note": {"type": "plain_text_input", "value": "deck"}},
        },
    )
    result = harness.api.seen_by(DANA)[-1]
    assert result.channel == "D0DANA" and not result.ephemeral
    assert "Logged an *email*" in harness.seen_text(result)


def test_a_lead_button_opens_the_modal_on_that_lead(harness: Harness) -> None:
    add(harness, "Acme Corp")
    added = harness.api.seen_by(DANA)[-1]
    harness.slack.click(DANA, added, Action.LOGCALL_OPEN)
    view = harness.slack.open_modal(DANA)
    assert view is not None
    assert view["blocks"][0]["element"]["initial_option"]["text"]["text"] == "Acme Corp"


def test_a_burst_of_tries_on_one_evening_is_one_attempt_at_the_cadence(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # Monday 17:00 in New York
    add(harness, "Acme Corp")
    for _ in range(7):
        harness.clock.advance(minutes=10)
        reply = harness.seen_text(harness.command(DANA, "/logcall", "acme no-answer"))
    assert "Attempt 1 of 8" in reply and "back-burner" not in reply
    assert "Tries on the same day count as one attempt" in reply
    assert len(touches(harness)) == 7  # every try stays in the history
    harness.clock.advance(days=4)
    reply = harness.seen_text(harness.command(DANA, "/logcall", "acme vm"))
    assert "Attempt 2 of 8" in reply and "same day" not in reply


def test_a_past_meeting_logged_while_another_is_booked_keeps_the_booked_one(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday
    add(harness, "Umbrella")
    harness.command(DANA, "/logcall", "umbrella meeting 2026-11-26 pricing review")  # Thursday
    harness.clock.now = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday
    reply = harness.seen_text(harness.command(DANA, "/logcall", "umbrella meeting yesterday demo went great"))
    assert lead(harness, "Umbrella").meeting_on == date(2026, 11, 26)
    assert "Meeting *tomorrow*" in reply


def test_a_meeting_booked_for_tomorrow_asks_for_the_reminder_today(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday
    add(harness, "Umbrella")
    reply = harness.seen_text(harness.command(DANA, "/logcall", "umbrella meeting tomorrow demo"))
    assert "Meeting *tomorrow* — send the client a reminder today" in reply
    assert "working day before" not in reply


def test_logging_on_a_colleagues_lead_says_who_baton_reminds(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday
    add(harness, "Umbrella")
    reply = harness.seen_text(harness.command(SAM, "/logcall", "umbrella meeting 2026-11-27 demo"))
    assert "Baton will remind <@U0DANA> on the working day before" in reply
    assert "remind you" not in reply


def test_a_call_with_no_outcome_gets_the_advice_once(harness: Harness) -> None:
    add(harness, "Acme Corp")
    reply = harness.seen_text(harness.command(DANA, "/logcall", "Acme Corp"))
    assert "No outcome given" in reply and ":bulb:" not in reply


def test_a_guessed_not_interested_button_reads_without_nested_quotes(harness: Harness) -> None:
    add(harness, "Acme Corp")
    asked = harness.command(DANA, "/logcall", "acme not intrested")
    labels = [text for _, text in buttons(asked)]
    assert "Yes, not interested" in labels, labels
