"""The CRM mapping rules: what HubSpot's records mean to Baton, and what Baton's touches are in HubSpot."""

from datetime import UTC, date, datetime, timedelta

from coaching.crm_mapping import (
    CONNECTED,
    LEFT_VOICEMAIL,
    NO_ANSWER,
    TOUCH_ID_PROPERTY,
    CrmCompany,
    CrmDeal,
    CrmEngagement,
    CrmStage,
    EngagementKind,
    TouchFacts,
    engagement_kind,
    engagement_properties,
    history_of,
    lead_name,
    second_name,
    stage_for,
    status_of_stage,
)
from coaching.rules import Outcome, Status

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
STAGES = [
    CrmStage("appointmentscheduled", "default", "Appointment Scheduled", 0, False, 0.2),
    CrmStage("contractsent", "default", "Contract Sent", 4, False, 0.9),
    CrmStage("signed", "default", "Signed, sealed", 5, True, 1.0),  # an account's own label for won
    CrmStage("gone", "default", "Gone quiet", 6, True, 0.0),
    CrmStage("p2-open", "renewals", "Renewal due", 0, False, 0.5),
    CrmStage("p2-won", "renewals", "Renewed", 1, True, 1.0),
]


def deal(name: str = "Acme - Q3 expansion") -> CrmDeal:
    return CrmDeal("11", name, "contractsent", "default", "7", NOW, NOW)


def test_won_and_lost_come_from_the_stage_metadata_not_its_label() -> None:
    assert status_of_stage(STAGES[2]) is Status.WON
    assert status_of_stage(STAGES[3]) is Status.LOST
    assert status_of_stage(STAGES[1]) is Status.OPEN
    assert status_of_stage(None) is Status.OPEN  # a stage the pipeline doesn't know: still open


def test_a_lead_is_named_after_the_deals_company_or_else_the_deal() -> None:
    assert lead_name(deal(), CrmCompany("3", "  Acme   Corp ")) == "Acme Corp"
    assert lead_name(deal(), None) == "Acme - Q3 expansion"
    assert second_name("Acme Corp", deal()) == "Acme Corp (Acme - Q3 expansion)"


def test_baton_statuses_move_the_deal_to_a_stage_of_its_own_pipeline() -> None:
    assert stage_for(Status.WON, STAGES, "default") == STAGES[2]
    assert stage_for(Status.LOST, STAGES, "default") == STAGES[3]
    assert stage_for(Status.BACKBURNER, STAGES, "default") == STAGES[3]
    assert stage_for(Status.OPEN, STAGES, "default") == STAGES[0]
    assert stage_for(Status.WON, STAGES, "renewals") == STAGES[5]
    assert stage_for(Status.LOST, STAGES, "renewals") is None  # no lost stage there: said, not guessed


def call(minutes: int, disposition: str) -> CrmEngagement:
    return CrmEngagement(str(minutes), EngagementKind.CALL, NOW + timedelta(minutes=minutes), disposition)


def test_history_counts_the_tries_since_the_last_conversation() -> None:
    past = history_of(
        [
            call(1, NO_ANSWER),
            call(2, CONNECTED),
            call(3, LEFT_VOICEMAIL),
            CrmEngagement("e", EngagementKind.EMAIL, NOW + timedelta(minutes=4)),
            CrmEngagement("n", EngagementKind.NOTE, NOW + timedelta(minutes=9)),  # a note is no touch
            CrmEngagement("b", EngagementKind.CALL, NOW + timedelta(minutes=8), NO_ANSWER, ours=True),
        ]
    )
    assert past.attempts == 2
    assert past.last_contact_at == NOW + timedelta(minutes=2)
    assert past.last_touch_at == NOW + timedelta(minutes=4)


def test_an_incoming_email_or_a_meeting_is_a_conversation() -> None:
    reply = CrmEngagement("r", EngagementKind.EMAIL, NOW, incoming=True)
    meeting = CrmEngagement("m", EngagementKind.MEETING, NOW + timedelta(days=1))
    assert history_of([call(-5, NO_ANSWER), reply]).attempts == 0
    assert history_of([meeting]).last_contact_at == meeting.at


def touch(outcome: Outcome, **kw: object) -> TouchFacts:
    values: dict[str, object] = dict(
        touch_id=42,
        outcome=outcome,
        at=NOW,
        note="asked for pricing",
        meeting_on=None,
        lead_name="Acme",
        crm_owner="7",
    )
    values.update(kw)
    return TouchFacts(**values)  # type: ignore[arg-type]


def test_each_touch_becomes_the_matching_engagement_with_its_disposition() -> None:
    kinds = {o: engagement_kind(o) for o in Outcome}
    assert kinds[Outcome.VOICEMAIL] is EngagementKind.CALL
    assert kinds[Outcome.REPLIED] is EngagementKind.EMAIL
    assert kinds[Outcome.MEETING] is EngagementKind.MEETING
    assert kinds[Outcome.CALL] is EngagementKind.NOTE  # no outcome given: a note says so
    voicemail = engagement_properties(touch(Outcome.VOICEMAIL))
    assert voicemail["hs_call_disposition"] == LEFT_VOICEMAIL
    assert voicemail["hs_call_body"] == "asked for pricing"
    assert voicemail["hs_timestamp"] == str(int(NOW.timestamp() * 1000))
    assert voicemail["hubspot_owner_id"] == "7"
    assert voicemail[TOUCH_ID_PROPERTY] == "42"
    assert engagement_properties(touch(Outcome.NO_ANSWER))["hs_call_disposition"] == NO_ANSWER
    reply = engagement_properties(touch(Outcome.REPLIED))
    assert reply["hs_email_direction"] == "INCOMING_EMAIL"
    optout = engagement_properties(touch(Outcome.OPT_OUT))
    assert optout["hs_call_body"].startswith("Asked not to be contacted.")


def test_a_booked_meeting_is_scheduled_on_its_day() -> None:
    props = engagement_properties(touch(Outcome.MEETING, meeting_on=date(2026, 12, 2)))
    assert props["hs_meeting_outcome"] == "SCHEDULED"
    assert props["hs_meeting_start_time"] == str(
        int(datetime(2026, 12, 2, 12, tzinfo=UTC).timestamp() * 1000)
    )
