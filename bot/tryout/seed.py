"""The try-out's demo team: three people and a pipeline with something in every state.

Seeded through the real use cases, at instants in the past, so every lead's progress is exactly
what Baton would have recorded had the reps logged those touches themselves.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.localslack import User, Workspace
from coaching.calendar import is_working_day, local_date
from coaching.caller import Caller
from coaching.leads import Change, change_status, create_lead, save_contact
from coaching.people import Profile, remember
from coaching.rules import Outcome, Rules
from coaching.settings import TeamConfig
from coaching.touches import log_from_form
from store import queries
from store.db import Database
from store.models import Lead

TEAM_ID = "T0DEMO"
DANA, SAM, MORGAN = "U0DANA", "U0SAM", "U0MORGAN"
PEOPLE = (
    User(DANA, "dana", "Dana Reyes", tz="America/New_York"),
    User(SAM, "sam", "Sam Okafor", tz="Europe/London"),
    User(MORGAN, "morgan", "Morgan Lee", tz="America/Chicago", is_admin=True),
)
ROLES = {
    DANA: "account executive, New York",
    SAM: "account executive, London",
    MORGAN: "sales manager, Chicago",
}
MANAGERS = frozenset({MORGAN})


def working_now(now: datetime, workdays: frozenset[int]) -> datetime:
    """The try-out plays a working day: `now`, or the same time on the first later day that is a
    working day for every demo person (a demo started on a Sunday shows Monday's work, because
    on a day off nothing is due and the demo team would have nothing to show)."""
    shifted = now
    for _ in range(7):
        if all(is_working_day(local_date(shifted, ZoneInfo(p.tz)), workdays) for p in PEOPLE):
            return shifted
        shifted += timedelta(days=1)
    return now


# (owner, lead, days since it was added, [(days ago, outcome, note)], contact, final change)
Story = tuple[str, str, int, list[tuple[int, Outcome, str]], tuple[str, str, bool] | None, Change | None]
STORIES: list[Story] = [
    (
        DANA,
        "Acme Corp",
        14,
        [
            (12, Outcome.NO_ANSWER, ""),
            (8, Outcome.VOICEMAIL, "Left a short message about their Q3 hiring push"),
            (4, Outcome.EMAIL, "Sent the logistics case study"),
        ],
        None,
        None,
    ),
    (
        DANA,
        "Globex Corporation",
        33,
        [
            (30, Outcome.NO_ANSWER, ""),
            (26, Outcome.VOICEMAIL, ""),
            (22, Outcome.EMAIL, "Intro email to the CEO's office"),
            (18, Outcome.NO_ANSWER, ""),
            (14, Outcome.VOICEMAIL, ""),
            (9, Outcome.EMAIL, "Shared the ROI calculator"),
            (5, Outcome.NO_ANSWER, "Gatekeeper says he's travelling"),
        ],
        ("Hank Scorpio", "CEO", True),
        None,
    ),
    (
        DANA,
        "Initech",
        45,
        [
            (40, Outcome.VOICEMAIL, ""),
            (35, Outcome.CONNECTED, "Talked to the CFO: budget review in Q1, wants numbers"),
            (20, Outcome.MEETING, "Demo went well; they'll take it to the exec team"),
        ],
        ("Bill Lumbergh", "CFO", True),
        None,
    ),
    (
        DANA,
        "Umbrella Health",
        21,
        [
            (18, Outcome.EMAIL, ""),
            (12, Outcome.REPLIED, "Interested, asked for a demo"),
        ],
        ("Alice Abernathy", "VP Operations", False),
        None,
    ),
    (
        DANA,
        "Stark Industries",
        9,
        [(7, Outcome.VOICEMAIL, ""), (2, Outcome.REPLIED, "Pepper wants pricing")],
        None,
        None,
    ),
    (
        DANA,
        "Wayne Enterprises",
        40,
        [
            (d, o, "")
            for d, o in zip(
                (37, 33, 29, 25, 21, 17, 13, 9), [Outcome.NO_ANSWER, Outcome.VOICEMAIL] * 4, strict=True
            )
        ],
        None,
        None,
    ),
    (
        DANA,
        "Hooli",
        120,
        [(115, Outcome.CONNECTED, "Gavin is 'very interested'"), (60, Outcome.EMAIL, "")],
        None,
        None,
    ),
    (
        DANA,
        "Soylent",
        60,
        [(55, Outcome.NOT_INTERESTED, "Happy with their current vendor")],
        None,
        Change.BACKBURNER,
    ),
    (
        DANA,
        "Cyberdyne Systems",
        80,
        [(70, Outcome.CONNECTED, ""), (45, Outcome.MEETING, "Signed!")],
        None,
        Change.WON,
    ),
    (
        SAM,
        "Vandelay Industries",
        6,
        [(5, Outcome.NO_ANSWER, ""), (1, Outcome.VOICEMAIL, "Asked for Art")],
        None,
        None,
    ),
    (
        SAM,
        "Pied Piper",
        10,
        [(8, Outcome.EMAIL, ""), (1, Outcome.CONNECTED, "Richard wants a pilot")],
        None,
        None,
    ),
    (SAM, "Massive Dynamic", 30, [(25, Outcome.VOICEMAIL, "")], None, None),
]


OPS_CHANNEL = "C0OPS"


def workspace() -> Workspace:
    channels = {
        "C0GENERAL": "general",
        "C0SALES": "sales",
        "C0SALESMGR": "sales-managers",
        OPS_CHANNEL: "ops",
    }
    return Workspace(
        team_id=TEAM_ID, team_name="Northwind Sales", users={u.id: u for u in PEOPLE}, channels=channels
    )


def is_seeded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Lead).where(Lead.team_id == TEAM_ID)))


def seed(db: Database, *, now: datetime, rules: Rules) -> None:
    """Fill an empty try-out database with the demo team's pipeline, as of `now`."""
    with db.sessions.begin() as session:
        if is_seeded(session):
            return
        for user in PEOPLE:
            remember(session, team_id=TEAM_ID, profile=Profile(user.id, user.real_name, user.tz), now=now)
        # Recorded as `/coach managers add` would, so `python -m bot review` against this database
        # finds Morgan without COACH_MANAGER_IDS.
        for manager in sorted(MANAGERS):
            queries.people.add_manager(session, team_id=TEAM_ID, user_id=manager, by=manager, now=now)
        for owner, name, age, touches, contact, change in STORIES:
            added = at_days(now, age, owner, rules)
            lead = create_lead(
                session, team_id=TEAM_ID, owner_id=owner, name=name, now=added.now, tz=added.tz
            )
            assert isinstance(lead, Lead)
            session.flush()
            if contact:
                person, role, decides = contact
                save_contact(
                    session,
                    lead=lead,
                    user_id=owner,
                    person=person,
                    role=role,
                    decision_maker=decides,
                    now=added.now,
                )
            for days_ago, outcome, note in touches:
                caller = at_days(now, days_ago, owner, rules)
                log_from_form(session, caller, lead_id=lead.id, outcome=outcome, on=caller.today, note=note)
            if change is not None:
                decided = at_days(now, min(t[0] for t in touches) - 1, owner, rules)
                change_status(
                    session,
                    lead=lead,
                    user_id=owner,
                    is_manager=False,
                    change=change,
                    reason="",
                    now=decided.now,
                    tz=decided.tz,
                    rules=rules,
                    team_days=decided.workdays,
                )
        # The meeting Umbrella Health booked for tomorrow, agreed five days ago.
        umbrella = session.scalars(
            select(Lead).where(Lead.team_id == TEAM_ID, Lead.name == "Umbrella Health")
        ).one()
        booking = at_days(now, 5, DANA, rules)
        log_from_form(
            session,
            booking,
            lead_id=umbrella.id,
            outcome=Outcome.MEETING,
            on=(now + timedelta(days=1)).astimezone(booking.tz).date(),
            note="Demo for their ops team",
        )


def at_days(now: datetime, days_ago: int, owner: str, rules: Rules) -> Caller:
    tz = ZoneInfo(next(p.tz for p in PEOPLE if p.id == owner))
    return Caller(
        TEAM_ID, owner, owner in MANAGERS, now - timedelta(days=days_ago), tz, TeamConfig(rules=rules)
    )
