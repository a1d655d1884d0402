"""The morning digest, the weekly review and orphaned leads, delivered through the stand-in Slack."""

import threading
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.localslack import Shown
from coaching.digest_records import Kind
from handlers.blocks.ids import Action
from handlers.courier import Courier
from handlers.deliveries import Deliveries
from store.models import Delivery, Lead, TransferRequest
from tests.conftest import DANA, KENJI, MORGAN, SAM, Harness, flatten

MONDAY_MORNING_NY = datetime(2026, 11, 23, 13, 35, tzinfo=UTC)  # 08:35 New York, 13:35 London
TUESDAY_MORNING_LONDON = datetime(2026, 11, 24, 8, 35, tzinfo=UTC)  # 08:35 London, 03:35 New York


def seed(h: Harness) -> None:
    """A week before: Dana and Sam each add a lead and leave a voicemail; both follow-ups are now due."""
    h.clock.now = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    h.command(DANA, "/lead", "add Acme Corp")
    h.command(DANA, "/logcall", "acme vm")
    h.command(SAM, "/lead", "add Globex")
    h.command(SAM, "/logcall", "globex vm")


def run(h: Harness, at: datetime, **options: bool) -> Deliveries:
    h.clock.now = at
    deliveries = Deliveries(h.baton.deps, h.baton.client)
    deliveries.digests(at=at, **options)
    return deliveries


def digests_for(h: Harness, user: str) -> list[Shown]:
    return [m for m in h.dms(user) if "need" in m.text or m.text.startswith("Good ")]


def delivery_rows(h: Harness) -> list[Delivery]:
    with h.db.readers.begin() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.user_id)))


def test_each_rep_gets_their_digest_in_their_own_morning(harness: Harness) -> None:
    seed(harness)
    run(harness, MONDAY_MORNING_NY)
    [digest] = digests_for(harness, DANA)
    text = flatten(digest.blocks)
    assert (
        "Good morning, Dana" in text and "*Acme Corp*" in text and "1 working day overdue" in text
    )  # due Friday
    assert digests_for(harness, SAM) == []  # it's afternoon in London
    run(harness, TUESDAY_MORNING_LONDON)
    assert len(digests_for(harness, SAM)) == 1
    assert len(digests_for(harness, DANA)) == 1  # 03:35 in New York


def test_a_rerun_a_restart_or_a_second_clock_never_sends_twice(harness: Harness) -> None:
    seed(harness)
    harness.clock.now = MONDAY_MORNING_NY
    clocks = [Deliveries(harness.baton.deps, harness.baton.client) for _ in range(4)]
    threads = [threading.Thread(target=c.digests, kwargs={"at": MONDAY_MORNING_NY}) for c in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run(harness, MONDAY_MORNING_NY + timedelta(minutes=5))  # the next tick
    assert len(digests_for(harness, DANA)) == 1
    [row] = [r for r in delivery_rows(harness) if r.user_id == DANA]
    assert (row.status, row.local_date, row.kind) == ("sent", date(2026, 11, 23), Kind.DIGEST.value)


def test_clocks_sharing_the_mornings_send_each_digest_once_and_a_lone_one_sends_them_all(
    harness: Harness,
) -> None:
    seed(harness)
    harness.clock.now = TUESDAY_MORNING_LONDON
    # CLOCK_PROCESSES=2, but the other clock is down: this one takes its share, then the rest
    Deliveries(harness.baton.deps, harness.baton.client, clocks=2).digests(
        at=TUESDAY_MORNING_LONDON, everyone=True
    )
    assert len(digests_for(harness, DANA)) == len(digests_for(harness, SAM)) == 1
    wednesday = TUESDAY_MORNING_LONDON + timedelta(days=1)
    harness.clock.now = wednesday
    clocks = [Deliveries(harness.baton.deps, harness.baton.client, clocks=2) for _ in range(2)]
    threads = [threading.Thread(target=c.digests, kwargs={"at": wednesday, "everyone": True}) for c in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(digests_for(harness, DANA)) == len(digests_for(harness, SAM)) == 2


def test_a_digest_missed_while_the_clock_was_down_goes_out_late_that_morning_not_in_the_evening(
    harness: Harness,
) -> None:
    seed(harness)
    run(harness, datetime(2026, 11, 23, 16, 45, tzinfo=UTC))  # 11:45 in New York: late, still morning
    assert len(digests_for(harness, DANA)) == 1
    run(harness, datetime(2026, 11, 24, 18, 0, tzinfo=UTC))  # Tuesday 13:00 in New York: too late
    assert len(digests_for(harness, DANA)) == 1


def test_nothing_is_sent_at_the_weekend_or_when_nothing_needs_doing(harness: Harness) -> None:
    seed(harness)
    run(harness, datetime(2026, 11, 28, 13, 35, tzinfo=UTC))  # Saturday
    assert digests_for(harness, DANA) == []
    harness.clock.now = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    harness.command(DANA, "/logcall", "acme connected")  # on schedule again
    run(harness, datetime(2026, 11, 30, 13, 35, tzinfo=UTC))
    assert digests_for(harness, DANA) == []
    assert [r.status for r in delivery_rows(harness) if r.user_id == DANA] == ["empty"]


def test_a_manual_forced_run_sends_again_and_a_dry_run_sends_nothing(harness: Harness) -> None:
    seed(harness)
    run(harness, MONDAY_MORNING_NY)
    run(harness, MONDAY_MORNING_NY, everyone=True, dry_run=True)
    assert len(digests_for(harness, DANA)) == 1
    run(harness, MONDAY_MORNING_NY + timedelta(minutes=1), everyone=True, force=True)
    assert len(digests_for(harness, DANA)) == 2
    assert len(digests_for(harness, SAM)) == 1  # "everyone": a manual run doesn't wait for London's morning


def test_a_digest_sent_by_hand_late_in_the_day_greets_the_rep_for_their_hour(harness: Harness) -> None:
    seed(harness)
    run(harness, MONDAY_MORNING_NY, everyone=True)  # 08:3x in New York, the afternoon in London
    assert "Good morning, Dana" in flatten(digests_for(harness, DANA)[0].blocks)
    assert "Good afternoon, Sam" in flatten(digests_for(harness, SAM)[0].blocks)
    evening = MONDAY_MORNING_NY + timedelta(hours=11)  # 19:3x in New York
    run(harness, evening, everyone=True, force=True)
    latest = flatten(digests_for(harness, DANA)[-1].blocks)
    assert "Good evening, Dana" in latest and "Good morning" not in latest


def test_rate_limits_are_waited_out_as_slack_asks(harness: Harness) -> None:
    seed(harness)
    harness.api.fail("chat.postMessage", status=429, retry_after=30, times=2)
    run(harness, MONDAY_MORNING_NY)
    assert len(digests_for(harness, DANA)) == 1
    assert [int(s) for s in harness.sleeps if s >= 1] == [30, 30]


def test_a_failed_delivery_is_recorded_retried_later_and_never_stops_the_others(harness: Harness) -> None:
    seed(harness)
    harness.clock.now = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    harness.command(KENJI, "/lead", "add Initech")
    at = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 09:00 Tuesday in Tokyo, 19:00 Monday in New York
    harness.api.fail("chat.postMessage", status=500, error="internal_error", times=3)  # more than the retries
    deliveries = Deliveries(harness.baton.deps, harness.baton.client)
    harness.clock.now = at
    report = deliveries.digests(at=at, everyone=True)
    assert report.failed == [DANA] and sorted(report.sent) == [KENJI, SAM]
    assert [(r.user_id, r.status) for r in delivery_rows(harness)] == [
        (DANA, "queued"),
        (KENJI, "sent"),
        (SAM, "sent"),
    ]
    assert (
        Deliveries(harness.baton.deps, harness.baton.client)
        .digests(at=at + timedelta(minutes=1), everyone=True)
        .sent
        == []
    )  # a later run doesn't send it again: the outbox owns it now
    harness.clock.now = at + timedelta(minutes=6)
    retry = Courier(harness.baton.deps, harness.baton.client).sweep()  # the clock's outbox job
    assert retry.sent == 1
    assert [len(digests_for(harness, user)) for user in (DANA, SAM, KENJI)] == [1, 1, 1]
    assert next((r.user_id, r.status) for r in delivery_rows(harness)) == (DANA, "sent")


def test_opted_out_leads_are_never_listed(harness: Harness) -> None:
    seed(harness)
    harness.command(DANA, "/lead", "optout acme")
    run(harness, MONDAY_MORNING_NY)
    assert digests_for(harness, DANA) == []


# ---- the buttons ----------------------------------------------------------------------------------------


def two_leads_due(h: Harness) -> Shown:
    seed(h)
    h.clock.now = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    h.command(DANA, "/lead", "add Umbrella")
    h.command(DANA, "/logcall", "umbrella email")
    run(h, MONDAY_MORNING_NY)
    [digest] = digests_for(h, DANA)
    return digest


def test_snooze_takes_a_lead_out_for_two_days_and_the_digest_updates_in_place(harness: Harness) -> None:
    digest = two_leads_due(harness)
    harness.click(DANA, digest, Action.DIGEST_SNOOZE, value=str(_lead_id(harness, "Acme Corp")))
    updated = flatten(harness.api.message(digest.id).blocks)
    assert "Snoozed Acme Corp until Wed 25 Nov" in updated
    assert "*Acme Corp*" not in updated and "*Umbrella*" in updated
    with harness.db.readers.begin() as session:
        lead = session.scalars(select(Lead).where(Lead.name == "Acme Corp")).one()
    assert lead.snoozed_until == date(2026, 11, 25) and lead.next_follow_up == date(2026, 11, 25)


def test_back_burner_from_the_digest_parks_the_lead_and_then_nothing_is_left(harness: Harness) -> None:
    digest = two_leads_due(harness)
    for name in ("Acme Corp", "Umbrella"):
        harness.click(
            DANA, harness.api.message(digest.id), Action.DIGEST_BACKBURNER, value=str(_lead_id(harness, name))
        )
    assert "That's everything for today" in flatten(harness.api.message(digest.id).blocks)


def test_logging_a_touch_from_the_digest_refreshes_it(harness: Harness) -> None:
    digest = two_leads_due(harness)
    acme = str(_lead_id(harness, "Acme Corp"))
    harness.slack.click(DANA, digest, Action.LOGCALL_OPEN, value=acme)
    view = harness.slack.open_modal(DANA)
    assert view is not None and view["blocks"][0]["element"]["initial_option"]["value"] == acme
    harness.slack.submit(
        DANA,
        view,
        {
            "lead": {
                Action.LEAD_SEARCH: {
                    "type": "external_select",
                    "selected_option": view["blocks"][0]["element"]["initial_option"],
                }
            },
            "outcome": {"outcome": {"type": "static_select", "selected_option": {"value": "connected"}}},
            "on": {"on": {"type": "datepicker", "selected_date": "2026-11-23"}},
            "note": {"note": {"type": "plain_text_input", "value": "booked a call"}},
        },
    )
    refreshed = flatten(harness.api.message(digest.id).blocks)
    assert "Logged a touch on Acme Corp" in refreshed and "*Acme Corp*" not in refreshed


def test_hand_off_from_the_digest_asks_a_manager(harness: Harness) -> None:
    digest = two_leads_due(harness)
    harness.slack.click(DANA, digest, Action.HANDOFF_OPEN, value=str(_lead_id(harness, "Acme Corp")))
    view = harness.slack.open_modal(DANA)
    assert view is not None and view["callback_id"] == Action.HANDOFF_MODAL
    values = {
        "to": {"to": {"type": "users_select", "selected_user": SAM}},
        "why": {"why": {"type": "plain_text_input", "value": "territory"}},
    }
    before = len(harness.api.seen_by(DANA))
    harness.slack.submit(DANA, view, values)
    assert any("Hand-off request" in flatten(m.blocks) for m in harness.dms(MORGAN))
    [told] = harness.api.seen_by(DANA)[before:]  # the rep's answer, owed with the request itself
    assert "Acme Corp" in flatten(told.blocks)


def _lead_id(h: Harness, name: str) -> int:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead.id).where(Lead.name == name)).one()


# ---- the managers -----------------------------------------------------------------------------------------


def test_managers_get_a_weekly_review_with_transfers_to_propose(harness: Harness) -> None:
    seed(harness)
    harness.clock.now = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)
    harness.command(DANA, "/lead", "add Massive Dynamic")  # untouched since
    at = datetime(2026, 11, 23, 14, 35, tzinfo=UTC)  # Monday 08:35 in Chicago
    harness.clock.now = at
    Deliveries(harness.baton.deps, harness.baton.client).refresh_directory(
        "T0TEST"
    )  # as the clock does on start
    Deliveries(harness.baton.deps, harness.baton.client).reviews(at=at)
    [review] = [m for m in harness.dms(MORGAN) if "Weekly review" in flatten(m.blocks)]
    text = flatten(review.blocks)
    assert "<@U0DANA> · *2* open · *2* overdue" in text and "<@U0SAM> · *1* open · *1* overdue" in text
    assert "*Massive Dynamic* untouched for 53 days" in text  # calendar days in Chicago, 1 Oct to 23 Nov
    harness.slack.click(MORGAN, review, Action.HANDOFF_OPEN, value=str(_lead_id(harness, "Massive Dynamic")))
    view = harness.slack.open_modal(MORGAN)
    assert view is not None and view["submit"]["text"] == "Hand it over"
    harness.slack.submit(
        MORGAN,
        view,
        {
            "to": {"to": {"type": "users_select", "selected_user": SAM}},
            "why": {"why": {"type": "plain_text_input", "value": None}},
        },
    )
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead.owner_id).where(Lead.name == "Massive Dynamic")).one() == SAM


def test_a_departed_owners_leads_reach_managers_at_once_and_are_reassigned_from_there(
    harness: Harness,
) -> None:
    seed(harness)
    user = harness.api.workspace.users[DANA].to_slack("T0TEST")
    event = {"type": "user_change", "user": {**user, "deleted": True}}
    assert harness.slack.event(event, event_id="Ev0DANA1").status == 200
    assert harness.slack.event(event, event_id="Ev0DANA1", retry=1).status == 200  # Slack's retry
    alerts = [m for m in harness.dms(MORGAN) if "was deactivated" in flatten(m.blocks)]
    assert len(alerts) == 1 and "*Acme Corp*" in flatten(alerts[0].blocks)
    block_id = f"orphan:{_lead_id(harness, 'Acme Corp')}"
    harness.slack.click(MORGAN, alerts[0], Action.ORPHAN_REASSIGN, block_id=block_id, selected_user=SAM)
    assert "*Acme Corp* → <@U0SAM>" in flatten(harness.api.message(alerts[0].id).blocks)
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead.owner_id).where(Lead.name == "Acme Corp")).one() == SAM
        assert session.scalars(select(TransferRequest.reason)).one() == "The owner left"


def test_only_managers_can_reassign_orphaned_leads(harness: Harness) -> None:
    seed(harness)
    user = harness.api.workspace.users[DANA].to_slack("T0TEST")
    harness.slack.event({"type": "user_change", "user": {**user, "deleted": True}})
    [alert] = [m for m in harness.dms(MORGAN) if "was deactivated" in flatten(m.blocks)]
    block_id = f"orphan:{_lead_id(harness, 'Acme Corp')}"
    harness.slack.click(SAM, alert, Action.ORPHAN_REASSIGN, block_id=block_id, selected_user=SAM)
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead.owner_id).where(Lead.name == "Acme Corp")).one() == DANA


def test_the_people_list_is_paged_through_and_departures_are_noticed(harness: Harness) -> None:
    from bot.localslack import User

    seed(harness)
    for index in range(450):
        harness.api.add_user(User(f"U1{index:05d}", f"rep{index}", tz="Europe/Paris"))
    harness.api.workspace.users[DANA].deleted = True
    departed = Deliveries(harness.baton.deps, harness.baton.client).refresh_directory("T0TEST")
    assert departed == [DANA]
    assert len(harness.api.calls_to("users.list")) == 3  # 454 people, 200 a page
    assert harness.baton.deps.directory.zone(harness.baton.client, "T0TEST", "U100449").key == "Europe/Paris"


def test_a_snoozed_lead_moved_to_another_rep_is_listed_in_their_digest_as_it_is_counted(
    harness: Harness,
) -> None:
    seed(harness)
    run(harness, TUESDAY_MORNING_LONDON)
    [sams] = digests_for(harness, SAM)
    harness.click(SAM, sams, Action.DIGEST_SNOOZE, value=str(_lead_id(harness, "Globex")))
    harness.clock.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 09:00 in Chicago
    harness.command(MORGAN, "/handoff", "globex @dana Sam is on leave")
    harness.command(DANA, "/logcall", "acme email")  # Acme is on track: only Globex needs Dana
    run(harness, datetime(2026, 11, 25, 13, 35, tzinfo=UTC))  # Wednesday 08:35 in New York
    [danas] = digests_for(harness, DANA)
    text = flatten(danas.blocks)
    assert "1 thing needs you today" in text
    assert "*Globex* · due today" in text  # Sam's snooze was his: it did not travel with the lead
    assert "*0* overdue · *1* due today" in text


def test_the_hand_off_form_names_the_owner_and_refuses_them_in_place(harness: Harness) -> None:
    digest = two_leads_due(harness)
    harness.slack.click(DANA, digest, Action.HANDOFF_OPEN, value=str(_lead_id(harness, "Acme Corp")))
    view = harness.slack.open_modal(DANA)
    assert view is not None and "Who should take *Acme Corp* from <@U0DANA>?" in flatten(view["blocks"])
    values = {"to": {"to": {"type": "users_select", "selected_user": DANA}}}
    seen_before = len(harness.api.seen_by(DANA))
    refused = harness.slack.submit(DANA, view, values)
    assert refused.json["response_action"] == "errors" and "owns it now" in refused.json["errors"]["to"]
    with harness.db.readers.begin() as session:
        assert session.scalars(select(TransferRequest)).all() == []
    assert len(harness.api.seen_by(DANA)) == seen_before  # one answer, in the form, and nothing after
