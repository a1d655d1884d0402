"""The managers' weekly review through the stand-in Slack: its numbers, its picture, its button."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.localslack import Shown
from coaching.calendar import MON_FRI
from coaching.leads import LeadAdded, add_lead, refresh_progress
from coaching.rules import Rules
from coaching.settings import TeamConfig, team_config
from handlers.blocks.ids import Action
from handlers.deliveries import Deliveries
from store import queries
from store.models import Delivery, Touch
from tests.conftest import DANA, MORGAN, SAM, TEAM, Harness, flatten

MONDAY_MORNING_CHICAGO = datetime(2026, 11, 23, 14, 35, tzinfo=UTC)  # Morgan's review: 08:35 in Chicago
MORGAN_DM = "D" + MORGAN[1:]


def at(h: Harness, day: int) -> None:
    """10:00 in New York on that day of November (a Monday is the 16th)."""
    h.clock.now = datetime(2026, 11, day, 15, 0, tzinfo=UTC)


def scripted_week(h: Harness) -> None:
    at(h, 16)
    h.command(DANA, "/lead", "add Acme Corp")
    h.command(DANA, "/logcall", "acme vm")
    h.command(SAM, "/lead", "add Globex")
    h.command(SAM, "/logcall", "globex connected spoke to Hank")
    at(h, 18)
    h.command(DANA, "/logcall", "acme email sent the case study")
    at(h, 19)
    h.command(DANA, "/lead", "add Initech")
    h.command(DANA, "/logcall", "initech meeting 2026-11-26 demo")
    at(h, 20)
    h.command(DANA, "/lead", "won Initech")


def send_reviews(h: Harness, when: datetime = MONDAY_MORNING_CHICAGO) -> object:
    h.clock.now = when
    Deliveries(h.baton.deps, h.baton.client).refresh_directory(TEAM)
    return Deliveries(h.baton.deps, h.baton.client).reviews(at=when)


def the_review(h: Harness) -> Shown:
    [review] = [m for m in h.dms(MORGAN) if "Weekly review" in flatten(m.blocks)]
    return review


def deliveries(h: Harness) -> list[tuple[str, str]]:
    with h.db.readers.begin() as session:
        rows = session.scalars(select(Delivery).where(Delivery.user_id == MORGAN).order_by(Delivery.kind))
        return [(row.kind, row.status) for row in rows]


def test_the_review_gives_last_weeks_numbers_and_the_picture_arrives_in_the_managers_dm(
    harness: Harness,
) -> None:
    scripted_week(harness)
    send_reviews(harness)
    text = flatten(the_review(harness).blocks)
    assert "*Last week* (Mon 16 Nov to Sun 22 Nov), 2 reps:" in text
    assert "*4* touches ↑4: 2 calls, 1 voicemail, 1 e-mail" in text
    assert "*2* conversations ↑2 · *1* meeting booked ↑1" in text
    assert "*1* won ↑1 · *0* lost · *0* parked · hand-offs *0* in, *0* out" in text
    assert (
        "Follow-ups: *4* on time ↑4, *0* late ↑0" not in text
        and "Follow-ups: *4* on time ↑4, *0* late" in text
    )
    assert (
        "<@U0DANA> · *3* touches ↑3 · 1 conversation · 1 booked · 1 won · follow-ups 3 on time, 0 late"
        in text
    )
    assert "<@U0SAM> · *1* touch ↑1 · 1 conversation · follow-ups 1 on time, 0 late" in text
    assert "No advice on the limit yet: only 2 leads have been reached so far" in text
    assert "The week in a picture follows" in text

    [upload] = harness.api.files.values()
    assert upload.data.startswith(b"\x89PNG") and len(upload.data) == upload.length
    assert upload.channels == [MORGAN_DM]  # shared to the manager's DM, nowhere else
    assert "Dana Reyes: 3 touches (1 call, 1 voicemail, 1 e-mail)" in upload.alt_txt
    assert "Sam Okafor: 1 touch (1 call)" in upload.alt_txt
    [shared] = [m for m in harness.dms(MORGAN) if m.files]
    assert shared.files == [upload.id] and shared.id > the_review(harness).id  # the picture follows the text
    methods = [c.method for c in harness.api.calls if c.method.startswith(("files.", "upload"))]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    assert deliveries(harness) == [("review", "sent"), ("review_chart", "sent")]


def test_a_failed_upload_leaves_the_review_complete_in_text_and_is_retried_alone(harness: Harness) -> None:
    scripted_week(harness)
    harness.api.fail("files.completeUploadExternal", status=500, error="internal_error", times=5)
    send_reviews(harness)
    review = the_review(harness)
    assert "*4* touches ↑4" in flatten(review.blocks)
    assert "Weekly review for Mon 16 Nov to Sun 22 Nov." in review.text  # the fallback has it all too
    assert "Dana Reyes · 3 touches ↑3 · 1 conversation" in review.text
    assert review.text.endswith("Nothing is waiting.")
    assert not any(upload.channels for upload in harness.api.files.values())
    assert deliveries(harness) == [("review", "sent"), ("review_chart", "failed")]

    send_reviews(harness, MONDAY_MORNING_CHICAGO + timedelta(minutes=1))  # too soon to retry
    assert deliveries(harness) == [("review", "sent"), ("review_chart", "failed")]
    send_reviews(harness, MONDAY_MORNING_CHICAGO + timedelta(minutes=6))
    assert deliveries(harness) == [("review", "sent"), ("review_chart", "sent")]
    shared = [u for u in harness.api.files.values() if u.channels]
    assert len(shared) == 1 and shared[0].channels == [MORGAN_DM]
    assert len([m for m in harness.dms(MORGAN) if "Weekly review" in flatten(m.blocks)]) == 1  # text once


# ---- the attempt curve and its button ---------------------------------------------------------------

# leads first reached at attempt 1, 2 …: 30 of 37 by the 5th, but the 7th still adds two; flat after
KNEE_AT_7 = {1: 12, 2: 8, 3: 6, 4: 3, 5: 1, 7: 2, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1}


def reached_leads(h: Harness) -> None:
    """37 leads Dana reached over October, each after its number of unanswered tries."""
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
    with h.db.sessions.begin() as session:
        n = 0
        for attempt, leads in KNEE_AT_7.items():
            for _ in range(leads):
                n += 1
                added = add_lead(session, team_id=TEAM, user_id=DANA, name=f"Reached {n}", now=start, tz=ny)
                assert isinstance(added, LeadAdded)
                for i in range(attempt):
                    outcome = "connected" if i == attempt - 1 else "voicemail"
                    when = start + timedelta(hours=i)
                    session.add(
                        Touch(
                            team_id=TEAM,
                            lead_id=added.lead.id,
                            user_id=DANA,
                            outcome=outcome,
                            at=when,
                            logged_at=when,
                        )
                    )
                session.flush()
                lead = queries.leads.lead(session, team_id=TEAM, lead_id=added.lead.id)
                assert lead is not None  # as logging a touch does: the lead row keeps its first contact
                refresh_progress(session, lead, tz=ny, rules=Rules(), today=start.date(), team_days=MON_FRI)


def limit(h: Harness) -> int:
    with h.db.readers.begin() as session:
        return team_config(session, team_id=TEAM, defaults=TeamConfig()).rules.attempts_limit


def test_set_the_limit_is_refused_to_a_rep_and_applied_for_a_manager(harness: Harness) -> None:
    reached_leads(harness)
    send_reviews(harness)
    review = the_review(harness)
    text = flatten(review.blocks)
    assert "37 leads first reached in the last 90 days" in text
    assert "Your team reaches 86% of the leads it ever reaches by the 7th attempt; the limit is 8." in text
    assert "Set the limit to 7" in text

    refused = harness.click(DANA, review, Action.REVIEW_SET_LIMIT)
    assert "Only a manager can change the attempt limit" in flatten(refused.blocks)
    assert limit(harness) == 8

    done = harness.click(MORGAN, review, Action.REVIEW_SET_LIMIT)
    assert done.id == review.id  # the button is replaced by what happened
    assert "The attempt limit is now *7* (was 8), set by <@U0MORGAN>." in flatten(done.blocks)
    assert "Set the limit to 7" not in flatten(done.blocks)
    assert limit(harness) == 7


def test_a_lead_handed_over_minutes_before_the_review_is_not_flagged_as_sat_on(harness: Harness) -> None:
    # Thursday 29 October: Sam adds Globex and Acme, then never touches either.
    harness.clock.now = datetime(2026, 10, 29, 15, 0, tzinfo=UTC)
    harness.command(SAM, "/lead", "add Globex")
    harness.command(SAM, "/lead", "add Acme Corp")
    harness.clock.now = MONDAY_MORNING_CHICAGO - timedelta(minutes=5)
    harness.command(MORGAN, "/handoff", "globex @dana rebalancing")
    send_reviews(harness)
    review = flatten(the_review(harness).blocks)
    assert "*Acme Corp* untouched for 25 days" in review  # Sam's: still sat on
    assert "*Globex* untouched" not in review  # Dana got it five minutes ago
