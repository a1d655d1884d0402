"""Every message, modal and Home tab Baton builds, rendered for representative data and compared whole
with a JSON file in tests/unit/golden/, so a dropped button, a changed id or a reordered block fails.

After a deliberate change, regenerate the files and read the diff before committing:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/test_golden.py
"""

import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from coaching.coach import CoachHelp, ManagersShown, SettingsShown
from coaching.digest_contents import Digest, Item, RepLine, Review, Section
from coaching.finding import DraftProblem, DraftRefused, LeadOption, WhichLead
from coaching.handoff_results import (
    AlreadyDecided,
    HandedToContact,
    HandoffRefused,
    NotAManager,
    OpsHandedOff,
    OpsHandoffSnapshot,
    Refusal,
    TransferAsked,
    TransferSnapshot,
    TransferStatus,
)
from coaching.home import HomeView, RepCount, Team
from coaching.lead_commands import Found
from coaching.leads import (
    Change,
    ContactSaved,
    ContactWords,
    LeadAdded,
    LeadDetail,
    LeadExists,
    NoChange,
    NotAllowed,
    StatusChanged,
)
from coaching.pipeline import Item as PipelineItem
from coaching.pipeline import Pipeline
from coaching.review import attempt_curve, team_week
from coaching.review_records import WeeklyReview
from coaching.rules import Counts, Flag, GroundRule, Outcome, Rules, Stage, Status
from coaching.settings import (
    SETTING_NAMES,
    ManagersChanged,
    SettingLine,
    SettingsChanged,
    SettingsRefused,
)
from coaching.snapshots import ContactSnapshot, HandoffLine, LeadSnapshot, TouchSnapshot
from coaching.tips import Situation, tip
from coaching.touches import BadNewLead, FutureDate, NotADate, Reading, TouchLogged, WhichDate, WhichOutcome
from handlers.blocks import (
    base,
    coach,
    crm,
    digest,
    handoffs,
    home,
    install,
    leads,
    logcall,
    orphans,
    pipeline,
    review,
)
from handlers.blocks.base import Message

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday
TODAY = date(2026, 11, 23)
DANA, SAM, MORGAN = "U0DANA", "U0SAM", "U0MORGAN"
RULES = Rules()


def lead(lead_id: int = 7, name: str = "Acme Corp", **changes: Any) -> LeadSnapshot:
    values: dict[str, Any] = {
        "id": lead_id,
        "name": name,
        "owner_id": DANA,
        "status": Status.OPEN,
        "created_at": NOW - timedelta(days=10),
        "closed_at": None,
        "lost_reason": None,
        "opted_out_at": None,
        "attempts": 3,
        "reached": False,
        "ever_reached": False,
        "last_touch_at": NOW - timedelta(days=2),
        "last_contact_at": None,
        "next_follow_up": TODAY + timedelta(days=2),
        "meeting_on": None,
    }
    values.update(changes)
    return LeadSnapshot(**values)


def contact(contact_id: int = 1, name: str = "Jane Doe", **changes: Any) -> ContactSnapshot:
    values: dict[str, Any] = {
        "id": contact_id,
        "name": name,
        "role": "CFO",
        "is_decision_maker": True,
        "added_at": NOW - timedelta(days=9),
    }
    values.update(changes)
    return ContactSnapshot(**values)


def logged(**changes: Any) -> TouchLogged:
    values: dict[str, Any] = {
        "lead": lead(),
        "touch_id": 99,
        "outcome": Outcome.VOICEMAIL,
        "outcome_given": True,
        "on": TODAY,
        "today": TODAY,
        "meeting_booked": None,
        "note": "Left a message about their Q3 hiring",
        "removed_characters": 0,
        "stage": Stage.TRYING,
        "rules": RULES,
        "tip": tip(Situation.VOICEMAIL, seed=0),
        "readings": (),
        "logged_by": DANA,
    }
    values.update(changes)
    return TouchLogged(**values)


def transfer(status: TransferStatus = TransferStatus.PENDING, **changes: Any) -> TransferSnapshot:
    decided = status is not TransferStatus.PENDING
    values: dict[str, Any] = {
        "id": 5,
        "lead": lead(attempts=8),
        "from_owner": DANA,
        "to_user": SAM,
        "requested_by": DANA,
        "reason": "Sam used to work with their COO",
        "status": status,
        "decided_by": MORGAN if decided else None,
        "decided_at": NOW if decided else None,
        "note": "Good call" if decided else None,
        "created_at": NOW - timedelta(days=1),
        "rule": GroundRule.NOT_REACHED,
        "rules": RULES,
        "now": NOW,
        "to_user_today": NOW.date(),
    }
    values.update(changes)
    values.setdefault("facts", values["lead"])
    return TransferSnapshot(**values)


def ops(**changes: Any) -> OpsHandoffSnapshot:
    values: dict[str, Any] = {
        "id": 3,
        "lead": lead(status=Status.WON, closed_at=NOW),
        "rep_id": DANA,
        "sold": "40 seats, annual",
        "timeline": "Go-live 1 February",
        "notes": "Their IT lead is Raj; he wants a kickoff call",
        "contacts": (contact(), contact(2, "Raj Patel", role="IT lead", is_decision_maker=False)),
        "created_at": NOW,
        "claimed_by": None,
        "claimed_at": None,
    }
    values.update(changes)
    return OpsHandoffSnapshot(**values)


def nudge(lead_id: int, name: str, section: Section, **changes: Any) -> Item:
    values: dict[str, Any] = {
        "lead_id": lead_id,
        "name": name,
        "section": section,
        "overdue_days": 0,
        "idle_days": 3,
        "attempts": 2,
        "meeting_on": None,
    }
    values.update(changes)
    return Item(**values)


DIGEST = Digest(
    owner_id=DANA,
    today=TODAY,
    sections=(
        (Section.MEETING, (nudge(1, "Initech", Section.MEETING, meeting_on=TODAY + timedelta(days=1)),), 0),
        (Section.AT_LIMIT, (nudge(2, "Globex", Section.AT_LIMIT, attempts=8, idle_days=6),), 0),
        (Section.STALLED, (nudge(3, "Hooli", Section.STALLED, quiet_days=15, idle_days=15),), 0),
        (
            Section.FOLLOW_UP,
            (
                nudge(7, "Acme Corp", Section.FOLLOW_UP, overdue_days=2, idle_days=4),
                nudge(4, "Umbrella", Section.FOLLOW_UP, flags=frozenset({Flag.PAST_CYCLE})),
            ),
            3,
        ),
        (Section.LAPSED, (nudge(5, "Soylent", Section.LAPSED, idle_days=95),), 0),
    ),
)


def pipeline_view(owner_id: str = DANA) -> Pipeline:
    overdue = PipelineItem(lead(next_follow_up=TODAY - timedelta(days=2)), frozenset(), overdue_days=2)
    due = PipelineItem(
        lead(2, "Globex", attempts=8, next_follow_up=TODAY), frozenset({Flag.AT_LIMIT}), overdue_days=0
    )
    undecided = PipelineItem(
        lead(3, "Hooli", reached=True, ever_reached=True, next_follow_up=None), frozenset({Flag.STALLED})
    )
    upcoming = PipelineItem(
        lead(4, "Initech", meeting_on=TODAY + timedelta(days=3), next_follow_up=None), frozenset()
    )
    parked = PipelineItem(lead(5, "Umbrella", status=Status.BACKBURNER, next_follow_up=None), frozenset())
    return Pipeline(
        owner_id=owner_id,
        today=TODAY,
        overdue=(overdue,),
        due_today=(due,),
        upcoming=(upcoming,),
        undecided=(undecided,),
        backburner=(parked,),
        rules=RULES,
        counts=Counts(open=4, overdue=1, due_today=1, upcoming=1, to_decide=1, at_limit=1),
    )


def settings_shown(*, can_change: bool) -> SettingsShown:
    values = {
        "digest_time": "08:30",
        "digest_days": "mon-fri",
        "review_day": "mon",
        "manager_channel": "C0MANAGERS",
        "ops_channel": "none",
    }
    lines = tuple(
        SettingLine(name, values.get(name, str(getattr(RULES, name, ""))), name == "stall_days")
        for name in SETTING_NAMES
    )
    return SettingsShown(lines=lines, can_change=can_change)


def lead_detail() -> LeadDetail:
    touches = (
        TouchSnapshot(
            3,
            DANA,
            Outcome.CONNECTED,
            NOW - timedelta(days=1),
            TODAY - timedelta(days=1),
            None,
            "Spoke to Jane",
        ),
        TouchSnapshot(
            2, DANA, Outcome.VOICEMAIL, NOW - timedelta(days=4), TODAY - timedelta(days=4), None, ""
        ),
    )
    handoffs_seen = (
        HandoffLine(
            SAM, DANA, SAM, "approved", MORGAN, NOW - timedelta(days=5), NOW - timedelta(days=6), "Territory"
        ),
    )
    return LeadDetail(
        lead=lead(reached=True, ever_reached=True, last_contact_at=NOW - timedelta(days=1)),
        contacts=(contact(2, "Raj Patel", role=None, is_decision_maker=False), contact()),
        history=touches,
        touch_total=5,
        handoffs=handoffs_seen,
        stage=Stage.REACHED,
        stalled=False,
        past_cycle=False,
        rules=RULES,
        today=TODAY,
    )


def home_view(*, manager: bool) -> HomeView:
    team = Team(
        reps=(RepCount(DANA, 12, 2, 1, 0), RepCount(SAM, 8, 0, 0, 3)),
        waiting=(transfer(),),
        orphaned=(("U0GONE", nudge(9, "Stark Industries", None, idle_days=20)),),
    )
    wins = (lead(8, "Wayne Enterprises", status=Status.WON, closed_at=NOW - timedelta(days=2)),)
    return HomeView(
        user_id=DANA, today=DIGEST, pipeline=pipeline_view(), wins=wins, team=team if manager else None
    )


REVIEW = Review(
    today=TODAY,
    reps=(
        RepLine(DANA, 12, 2, 1, 0, (nudge(6, "Vandelay", Section.FOLLOW_UP, idle_days=30),)),
        RepLine(SAM, 8, 0, 0, 3, ()),
    ),
    orphaned=(("U0GONE", (nudge(9, "Stark Industries", None, idle_days=20),), 2),),
)

WEEKLY = WeeklyReview(
    "T0TEST",
    TODAY,
    "America/Chicago",
    Rules(),
    team_week(
        TODAY,
        touches=[
            (DANA, "call", 7, None, 3),
            (DANA, "voicemail", 8, None, 2),
            (DANA, "meeting", 9, TODAY + timedelta(days=3), 1),
            (SAM, "replied", 12, None, 1),
            (SAM, "email", 2, None, 4),
        ],
        follow_ups=[(DANA, TODAY - timedelta(days=7), 7, 2), (SAM, TODAY - timedelta(days=6), 9, 1)],
        statuses=[(DANA, "won", 10, 1)],
        handoffs=[(SAM, "in", 8, 1), (DANA, "out", 8, 1)],
        workdays_of=lambda _user: frozenset(range(5)),
    ),
    attempt_curve(
        [(1, True, 12), (2, True, 8), (3, True, 6), (4, True, 3), (5, True, 1), (7, True, 2)], Rules()
    ),
    REVIEW,
)

CASES: dict[str, Callable[[], Message | View]] = {
    # ---- base
    "base_plain": lambda: base.plain("*Acme &amp; Sons* is ready"),
    "base_stale_button": base.stale_button,
    "base_something_went_wrong": lambda: base.something_went_wrong("/logcall acme vm"),
    "base_too_busy_to_keep": lambda: base.too_busy_to_keep("/logcall", "acme vm left a message"),
    "base_not_done_command": lambda: base.not_done(tries=4, typed="/logcall acme vm <!channel> asked"),
    "base_not_done_form": lambda: base.not_done(
        tries=4, form=[("Lead", "Acme & Sons"), ("Outcome", "Replied"), ("Note", "")]
    ),
    "base_not_done_button": lambda: base.not_done(tries=4, pressed="Won"),
    "base_usage": lambda: base.usage("pipeline", "Name a rep with @, like `/pipeline @jane`."),
    "base_with_note": lambda: base.with_note(base.plain("The digest"), "Snoozed Acme Corp."),
    # ---- /logcall
    "logcall_touch_logged": lambda: logcall.touch_logged(logged(), NOW),
    "logcall_touch_logged_at_the_limit": lambda: logcall.touch_logged(
        logged(stage=Stage.INSIST, lead=lead(attempts=8), outcome_given=False, outcome=Outcome.CALL), NOW
    ),
    "logcall_touch_logged_meeting": lambda: logcall.touch_logged(
        logged(
            outcome=Outcome.MEETING,
            meeting_booked=TODAY + timedelta(days=3),
            lead=lead(meeting_on=TODAY + timedelta(days=3)),
            readings=(Reading("thursday", TODAY + timedelta(days=3)),),
        ),
        NOW,
    ),
    "logcall_touch_logged_not_interested": lambda: logcall.touch_logged(
        logged(outcome=Outcome.NOT_INTERESTED, note=""), NOW
    ),
    "logcall_touch_on_your_lead": lambda: logcall.touch_on_your_lead(logged(logged_by=SAM), NOW),
    "logcall_which_lead": lambda: logcall.which_lead(
        WhichLead(
            draft_id=42,
            command="logcall",
            lead_text="acme",
            options=(
                LeadOption(1, "Acme Corp", Status.OPEN, DANA),
                LeadOption(2, "Acme Labs", Status.WON, SAM),
            ),
            more=3,
            unknown=False,
            can_add=False,
        )
    ),
    "logcall_which_lead_unknown": lambda: logcall.which_lead(
        WhichLead(42, "logcall", "acmee", (LeadOption(1, "Acme Corp", Status.OPEN, DANA),), 0, True, True)
    ),
    "logcall_future_date": lambda: logcall.future_date(
        FutureDate(42, lead(), Outcome.CONNECTED, TODAY + timedelta(days=2), TODAY)
    ),
    "logcall_which_outcome": lambda: logcall.which_outcome(
        WhichOutcome(42, lead(), "voicmail", Outcome.VOICEMAIL)
    ),
    "logcall_which_date": lambda: logcall.which_date(
        WhichDate(42, lead(), "3/11", date(2026, 3, 11), date(2026, 11, 3), TODAY)
    ),
    "logcall_not_a_date": lambda: logcall.not_a_date(NotADate("someday"), "/logcall acme vm someday"),
    "logcall_draft_refused": lambda: logcall.draft_refused(DraftRefused(DraftProblem.USED)),
    "logcall_bad_new_lead": lambda: logcall.bad_new_lead(BadNewLead("A lead needs a name.")),
    "logcall_modal": lambda: logcall.logcall_modal(
        today=TODAY, channel_id="C0SALES", lead=(7, "Acme Corp"), refresh=("D0DANA", "1700000000.000100")
    ),
    "logcall_modal_from_home": lambda: logcall.logcall_modal(today=TODAY, channel_id=None, home=True),
    # ---- /lead
    "leads_lead_added": lambda: leads.lead_added(LeadAdded(lead(attempts=0, last_touch_at=None))),
    "leads_lead_exists": lambda: leads.lead_exists(LeadExists(lead(owner_id=SAM))),
    "leads_lead_card": lambda: leads.lead_card(lead_detail(), NOW),
    "leads_lead_card_lost": lambda: leads.lead_card(
        replace(
            lead_detail(),
            lead=lead(status=Status.LOST, closed_at=NOW, lost_reason="Went with a competitor"),
            history=(),
            touch_total=0,
            handoffs=(),
            contacts=(),
        ),
        NOW,
    ),
    "leads_status_changed": lambda: leads.status_changed(
        StatusChanged(lead(status=Status.WON, closed_at=NOW), Change.WON, Status.OPEN, DANA)
    ),
    "leads_no_change": lambda: leads.no_change(NoChange(lead(status=Status.WON), Change.WON)),
    "leads_not_allowed": lambda: leads.not_allowed(NotAllowed(lead(owner_id=SAM), Change.LOST)),
    "leads_contact_saved": lambda: leads.contact_saved(
        ContactSaved(lead(), contact(), updated=False, words=ContactWords("Jane Doe", "CFO", True))
    ),
    "leads_lead_help": lambda: leads.lead_help("Which lead? Add a name."),
    "leads_found": lambda: leads.found(
        Found(
            "acme",
            (LeadOption(1, "Acme Corp", Status.OPEN, DANA), LeadOption(2, "Acme Labs", Status.LOST, SAM)),
            1,
        )
    ),
    # ---- /pipeline
    "pipeline_own": lambda: pipeline.pipeline(pipeline_view(), NOW, viewer=DANA),
    "pipeline_a_managers_view": lambda: pipeline.pipeline(pipeline_view(), NOW, viewer=MORGAN),
    # ---- hand-offs
    "handoffs_transfer_request": lambda: handoffs.transfer_request(transfer()),
    "handoffs_transfer_request_reminder": lambda: handoffs.transfer_request(transfer(), reminder=True),
    "handoffs_transfer_decided": lambda: handoffs.transfer_decided(transfer(TransferStatus.APPROVED)),
    "handoffs_transfer_asked": lambda: handoffs.transfer_asked(TransferAsked(transfer(), (MORGAN,), None)),
    "handoffs_transfer_news_new_owner": lambda: handoffs.transfer_news(
        transfer(TransferStatus.APPROVED), SAM
    ),
    "handoffs_transfer_news_rejected": lambda: handoffs.transfer_news(
        transfer(TransferStatus.REJECTED), DANA
    ),
    "handoffs_transfer_done": lambda: handoffs.transfer_done(
        transfer(TransferStatus.APPROVED, requested_by=MORGAN, note=None)
    ),
    "handoffs_transfer_not_yours": lambda: handoffs.transfer_not_yours(NotAManager(transfer())),
    "handoffs_transfer_already": lambda: handoffs.transfer_already(
        AlreadyDecided(transfer(TransferStatus.REJECTED))
    ),
    "handoffs_unknown_request": handoffs.unknown_request,
    "handoffs_handoff_refused": lambda: handoffs.handoff_refused(
        HandoffRefused(Refusal.PENDING, lead(), SAM, transfer())
    ),
    "handoffs_handoff_help": lambda: handoffs.handoff_help(None),
    "handoffs_handed_to_contact": lambda: handoffs.handed_to_contact(
        HandedToContact(
            ContactSaved(lead(), contact(), updated=False, words=ContactWords("Jane Doe", None, False)),
            lead(attempts=0),
            cleared_opt_out=True,
            tip=tip(Situation.FIRST_TRY, seed=0),
        )
    ),
    "handoffs_ops_card": lambda: handoffs.ops_card(ops()),
    "handoffs_ops_card_taken": lambda: handoffs.ops_card(ops(claimed_by=SAM, claimed_at=NOW)),
    "handoffs_ops_handed_off": lambda: handoffs.ops_handed_off(
        OpsHandedOff(ops(), "C0OPS", newly_won=True), posted_in="C0OPS", problem=None
    ),
    "handoffs_ops_handed_off_not_posted": lambda: handoffs.ops_handed_off(
        OpsHandedOff(ops(), "C0OPS", newly_won=False), posted_in=None, problem="Baton isn't in <#C0OPS> yet."
    ),
    "handoffs_ops_taken": lambda: handoffs.ops_taken(ops(claimed_by=SAM, claimed_at=NOW)),
    "handoffs_ops_already_taken": lambda: handoffs.ops_already_taken(ops(claimed_by=SAM, claimed_at=NOW)),
    "handoffs_ops_form_opened": lambda: handoffs.ops_form_opened(lead()),
    "handoffs_ops_modal": lambda: handoffs.ops_modal(lead(), channel_id="C0SALES"),
    "handoffs_reject_reason_modal": lambda: handoffs.reject_reason_modal(5),
    "handoffs_handoff_modal": lambda: handoffs.handoff_modal(
        7, "Acme Corp", manager=False, channel_id="D0DANA", owner_id=DANA
    ),
    # ---- the digest, orphans, the review
    "digest": lambda: digest.digest(DIGEST, RULES, name="Dana"),
    "digest_empty": lambda: digest.digest(Digest(DANA, TODAY, ()), RULES, name="Dana"),
    "digest_done": digest.digest_done,
    "orphans_orphan_alert": lambda: orphans.orphan_alert(
        "U0GONE",
        (nudge(9, "Stark Industries", None, idle_days=20), nudge(10, "Cyberdyne", None, idle_days=0)),
    ),
    "review": lambda: review.weekly_review(WEEKLY, names={DANA: "Dana Reyes", SAM: "Sam Okafor"}.__getitem__),
    # ---- the Home tab
    "home_rep": lambda: home.home(home_view(manager=False), RULES, NOW),
    "home_manager": lambda: home.home(home_view(manager=True), RULES, NOW, note="Snoozed Acme Corp."),
    # ---- /coach
    "coach_help": lambda: coach.coach_help(None),
    "coach_settings": lambda: coach.coach_settings(settings_shown(can_change=True)),
    "coach_settings_read_only": lambda: coach.coach_settings(settings_shown(can_change=False)),
    "coach_settings_changed": lambda: coach.settings_changed(SettingsChanged((("stall_days", "", "21"),))),
    "coach_settings_refused": lambda: coach.settings_refused(
        SettingsRefused({"stall_days": "Use a whole number."})
    ),
    "coach_managers_shown": lambda: coach.managers_shown(
        ManagersShown((MORGAN, SAM), frozenset({MORGAN}), True)
    ),
    "coach_managers_changed": lambda: coach.managers_changed(ManagersChanged(SAM, True, (MORGAN, SAM))),
    "coach_reply_help": lambda: coach.coach_reply(CoachHelp("Unknown subcommand.")),
    "coach_settings_modal": lambda: coach.settings_modal(settings_shown(can_change=True)),
    "coach_settings_saved_view": lambda: coach.settings_saved_view(
        SettingsChanged((("digest_time", "08:30", "09:00"),))
    ),
    # ---- a new install
    "install_welcome_first_manager": lambda: install.welcome(MORGAN, team_name="Acme & Sons", manager=True),
    "install_welcome_reinstall": lambda: install.welcome(MORGAN, team_name="Acme & Sons", manager=False),
    # ---- the CRM sync
    "crm_owner_changed_new_owner": lambda: crm.owner_changed_in_crm(
        lead_id=7, lead_name="Acme & Sons", from_user=DANA, to_user=SAM, reader=SAM, crm="HubSpot"
    ),
    "crm_owner_changed_old_owner": lambda: crm.owner_changed_in_crm(
        lead_id=7, lead_name="Acme & Sons", from_user=DANA, to_user=SAM, reader=DANA, crm="HubSpot"
    ),
}


def rendered(built: Message | View) -> dict[str, Any]:
    """What Slack receives: a message's text and blocks, or a view; through JSON, as it is sent."""
    payload = built.payload() if isinstance(built, Message) else built.to_dict()
    loaded: dict[str, Any] = json.loads(json.dumps(payload, ensure_ascii=False))
    return loaded


@pytest.mark.parametrize("name", sorted(CASES))
def test_payload_matches_its_golden_file(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    payload = rendered(CASES[name]())
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    assert path.exists(), (
        f"no golden file for {name}: run UPDATE_GOLDEN=1 .venv/bin/python -m pytest {__file__}"
    )
    assert payload == json.loads(path.read_text())


def test_every_golden_file_belongs_to_a_case() -> None:
    """A builder removed or renamed leaves no stale file behind."""
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(CASES)
