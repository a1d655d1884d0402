"""The calendar a coach keeps, as a rep and a manager see it: words read as meant, working days,
opt-outs and a "no" respected, hand-offs as fresh starts. Through the real app over HTTP."""

from datetime import UTC, date, datetime

from sqlalchemy import select

from coaching.settings import TeamConfig
from handlers.blocks.ids import Action
from handlers.deliveries import Deliveries
from handlers.handoff_posts import sweep
from store.db import Database
from store.models import Lead, Touch
from tests.conftest import DANA, KENJI, MORGAN, SAM, Harness, start_harness

WEDNESDAY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in New York


def lead(h: Harness, name: str) -> Lead:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead).where(Lead.name == name)).one()


def touches(h: Harness) -> list[Touch]:
    with h.db.readers.begin() as session:
        return list(session.scalars(select(Touch).order_by(Touch.id)))


def test_a_misspelt_outcome_is_asked_about_and_logged_as_confirmed(harness: Harness) -> None:
    harness.clock.now = WEDNESDAY
    harness.command(DANA, "/lead", "add Initech")
    asked = harness.command(DANA, "/logcall", "initech voicmail yesterday left a msg")
    assert "Did you mean a *voicemail* by “voicmail”" in harness.seen_text(asked)
    assert touches(harness) == []  # nothing logged as something else
    logged = harness.click(DANA, asked, Action.DRAFT_AS_GUESSED)
    assert "Logged a *voicemail* on *Initech* (yesterday)" in harness.seen_text(logged)
    [touch] = touches(harness)
    assert (touch.outcome, touch.note) == ("voicemail", "left a msg")


def test_an_ambiguous_date_is_asked_and_an_unambiguous_one_read(harness: Harness) -> None:
    harness.clock.now = WEDNESDAY
    harness.command(DANA, "/lead", "add Acme Corp")
    read = harness.command(DANA, "/logcall", "acme email 11/24 sent the deck")
    assert "Logged an *email* on *Acme Corp* (yesterday)" in harness.seen_text(read)
    asked = harness.command(DANA, "/logcall", "acme email 3/11 sent the price list")
    assert "could be *Wed 11 Mar* or *Tue 3 Nov*" in harness.seen_text(asked)
    harness.click(DANA, asked, Action.DRAFT_DAY_FIRST)
    assert [t.note for t in touches(harness)] == ["sent the deck", "sent the price list"]


def test_a_meeting_on_a_bare_weekday_is_the_coming_one_and_sat_stays_in_the_note(harness: Harness) -> None:
    harness.clock.now = WEDNESDAY
    harness.command(DANA, "/lead", "add Umbrella")
    booked = harness.command(DANA, "/logcall", "umbrella meeting friday demo")
    assert "for *Fri 27 Nov*" in harness.seen_text(booked)
    assert lead(harness, "Umbrella").meeting_on == date(2026, 11, 27)
    harness.command(DANA, "/logcall", "umbrella connected sat down with the CFO")
    assert touches(harness)[-1].note == "sat down with the CFO"
    assert touches(harness)[-1].at == WEDNESDAY


def test_an_opt_out_wins_at_once_everywhere(harness: Harness) -> None:
    harness.clock.now = WEDNESDAY
    harness.command(DANA, "/lead", "add Umbrella")
    harness.command(DANA, "/logcall", "umbrella meeting friday demo")
    opted = harness.command(DANA, "/logcall", "umbrella opt-out")
    assert "remind" not in harness.seen_text(opted).casefold()
    assert lead(harness, "Umbrella").meeting_on is None
    after = harness.command(DANA, "/logcall", "umbrella vm")
    text = harness.seen_text(after)
    assert text.startswith(":warning: Logged a *voicemail*")
    assert "asked not to be contacted" in text and "voicemail works best" not in text.casefold()
    assert len(touches(harness)) == 3  # stored all the same
    assert "meeting" not in harness.seen_text(harness.command(DANA, "/pipeline")).casefold()


def test_a_no_is_answered_once_then_left_alone(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday
    harness.command(DANA, "/lead", "add Globex")
    said_no = harness.command(DANA, "/logcall", "globex not interested budget gone")
    assert (Action.LEAD_LOST, "Close as lost") in [
        (e["action_id"], e["text"]["text"])
        for b in said_no.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    harness.clock.now = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # four weeks on, a Monday morning
    home = harness.command(DANA, "/pipeline")
    assert "said not interested" in harness.seen_text(home)
    Deliveries(harness.baton.deps, harness.baton.client).digests(at=harness.clock.now)
    assert not [m for m in harness.dms(DANA) if "Globex" in harness.seen_text(m)]


def test_a_rep_sets_their_own_working_days_and_follow_ups_land_on_them(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday
    shown = harness.seen_text(harness.command(DANA, "/coach", "me"))
    assert "`mon-fri`" in shown and "the team's" in shown
    harness.command(DANA, "/lead", "add Acme Corp")
    monday = harness.seen_text(harness.command(DANA, "/logcall", "acme vm"))
    assert "Next follow-up *Mon 7 Dec*" in monday  # not Saturday 5 December
    changed = harness.seen_text(harness.command(DANA, "/coach", "me workdays sun-thu"))
    assert "now `sun-thu`" in changed
    sunday = harness.seen_text(harness.command(DANA, "/logcall", "acme vm"))
    assert "Next follow-up *Sun 6 Dec*" in sunday
    refused = harness.seen_text(harness.command(DANA, "/coach", "me workdays someday"))
    assert "mon-fri" in refused and ":warning:" in refused


def test_a_digest_time_that_cannot_be_kept_is_refused_with_the_reason(harness: Harness) -> None:
    refused = harness.seen_text(harness.command(MORGAN, "/coach", "set digest_time 21:30"))
    assert "20:00 or earlier" in refused and "same day" in refused
    accepted = harness.seen_text(harness.command(MORGAN, "/coach", "set digest_time 13:00"))
    assert "13:00" in accepted


def test_a_hand_off_is_a_fresh_start_for_the_new_owner(harness: Harness) -> None:
    harness.clock.now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    harness.command(DANA, "/lead", "add Wayne Enterprises")
    for day in range(9):
        harness.clock.now = datetime(2026, 11, 2 + day, 15, 0, tzinfo=UTC)
        harness.command(DANA, "/logcall", "wayne no-answer")
    assert lead(harness, "Wayne Enterprises").attempts == 9
    harness.clock.advance(hours=1)
    harness.command(DANA, "/handoff", "wayne @sam nobody reached after the limit")
    [card] = [m for m in harness.dms(MORGAN) if "Hand-off request" in harness.seen_text(m)]
    harness.click(MORGAN, card, Action.TRANSFER_APPROVE)
    moved = lead(harness, "Wayne Enterprises")
    assert moved.owner_id == SAM and moved.attempts == 0
    assert len(touches(harness)) == 9  # the history stays
    shown = harness.seen_text(harness.command(SAM, "/lead", "show wayne"))
    assert "No attempts yet (limit 8)" in shown


def test_a_waiting_hand_off_is_shown_again_on_each_managers_own_working_morning(database: Database) -> None:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN, KENJI})))
    try:
        h.clock.now = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)  # Friday: 09:00 Chicago, Saturday 00:00 Tokyo
        h.command(DANA, "/lead", "add Acme Corp")
        h.command(DANA, "/handoff", "acme @sam")

        def reminders(manager: str) -> int:
            return len([m for m in h.dms(manager) if "Still waiting" in h.seen_text(m)])

        def tick(at: datetime) -> tuple[int, int]:
            h.clock.now = at
            return sweep(h.baton.deps, h.baton.client)

        assert tick(datetime(2026, 12, 21, 15, 0, tzinfo=UTC)) == (0, 0)  # Monday: one working day
        tick(datetime(2026, 12, 21, 23, 30, tzinfo=UTC))  # Tuesday 08:30 in Tokyo, Monday evening in Chicago
        assert (reminders(KENJI), reminders(MORGAN)) == (1, 0)
        tick(datetime(2026, 12, 22, 14, 30, tzinfo=UTC))  # Tuesday 08:30 in Chicago
        assert (reminders(KENJI), reminders(MORGAN)) == (1, 1)
        tick(datetime(2026, 12, 22, 15, 0, tzinfo=UTC))  # the next tick: not twice the same day
        assert (reminders(KENJI), reminders(MORGAN)) == (1, 1)
    finally:
        h.stop()


def test_ages_are_calendar_days_where_the_rep_is_and_a_date_typed_alone_keeps_its_day(
    harness: Harness,
) -> None:
    harness.clock.now = datetime(2026, 11, 29, 14, 0, tzinfo=UTC)  # Sunday 09:00 in New York
    harness.command(DANA, "/lead", "add Umbrella")
    harness.command(DANA, "/lead", "add Stark Industries")
    connected = harness.seen_text(harness.command(DANA, "/logcall", "umbrella connected friday"))
    assert "2 days ago" in connected and "yesterday" not in connected  # 45 hours, two calendar days
    harness.command(DANA, "/logcall", '"Stark Industries" email yesterday')
    card = harness.seen_text(harness.command(DANA, "/lead", "show stark"))
    assert "*Last touch*\nyesterday" in card and "email · yesterday" in card  # the card and its history agree


def test_a_slashed_date_a_few_days_ahead_is_this_years_and_asked_about_like_a_full_one(
    harness: Harness,
) -> None:
    harness.clock.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday 1 December
    harness.command(DANA, "/lead", "add Acme Corp")
    asked = harness.command(DANA, "/logcall", "acme email 12/4 send the onboarding deck")
    question = harness.seen_text(asked)
    assert "could be *Fri 4 Dec* or *Sun 12 Apr*" in question and "2025" not in question
    future = harness.click(DANA, asked, Action.DRAFT_MONTH_FIRST)
    text = harness.seen_text(future)
    assert "Book a meeting for Fri 4 Dec" in text and "It was an email today" in text
    assert touches(harness) == []  # nothing logged eleven months before the lead existed
