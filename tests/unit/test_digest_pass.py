"""The morning's pass over a rep's leads, made cheap for a 10,000-rep team, says exactly what the
rules say lead by lead: the same sections, the same order, the same lines and the same counts.

`reference_digest` is the digest as the rules define it, written plainly (every lead through every
rule, a full line for each one listed, then ranked and cut); `digest_for` must agree with it for
any leads, in any time zone (those that change their clocks at midnight or by half an hour too),
on any working week and any day.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from coaching.calendar import days_ago, is_working_day
from coaching.digest_contents import (
    DIGEST_CAP,
    SECTION_CAP,
    SECTION_ORDER,
    Days,
    Digest,
    Section,
    digest_for,
    item_of,
    section_for,
)
from coaching.rules import (
    Counts,
    Due,
    Rules,
    Status,
    due,
    is_at_limit,
    is_stalled,
    meeting_reminder_due,
    overdue_days,
    untouched_since,
)
from coaching.snapshots import NudgeLead

ZONES = [
    "America/New_York",
    "America/Santiago",  # falls back from Sunday 00:00 to Saturday 23:00: the local date goes back
    "Australia/Lord_Howe",  # half-hour daylight saving
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "Asia/Tokyo",
]


def reference_section(
    lead: NudgeLead, *, now: datetime, today: date, rules: Rules, days: Days
) -> Section | None:
    if lead.opted_out_at is not None or not is_working_day(today, days.workdays):
        return None
    if lead.snoozed_until is not None and lead.snoozed_until > today:
        return None
    if lead.status is not Status.LOST and meeting_reminder_due(
        lead.meeting_on, reminded=lead.meeting_reminded, today=today, workdays=days.workdays
    ):
        return Section.MEETING
    if lead.status is Status.WON:
        return (
            Section.LAPSED
            if days_ago(untouched_since(lead), now=now, tz=days.tz) > rules.lapse_days
            else None
        )
    if lead.status is not Status.OPEN or lead.declined:
        return None
    if lead.next_follow_up is not None and lead.next_follow_up > today:
        return None
    if is_at_limit(lead, rules=rules):
        return Section.AT_LIMIT
    if lead.next_follow_up is None:
        return None
    if is_stalled(lead.last_contact_at, reached=lead.reached, now=now, rules=rules, tz=days.tz):
        return Section.STALLED
    return Section.FOLLOW_UP


def reference_digest(
    leads: list[NudgeLead], *, now: datetime, today: date, rules: Rules, days: Days
) -> Digest:
    listed: dict[Section, list[NudgeLead]] = {section: [] for section in SECTION_ORDER}
    for lead in leads:
        section = reference_section(lead, now=now, today=today, rules=rules, days=days)
        if section is not None:
            listed[section].append(lead)
    room, sections = DIGEST_CAP, []
    for section in SECTION_ORDER:
        if not listed[section]:
            continue
        lines = sorted(
            (
                item_of(lead, now=now, today=today, rules=rules, days=days, section=section)
                for lead in listed[section]
            ),
            key=lambda item: (-item.overdue_days, -item.idle_days, item.name.casefold()),
        )
        shown = tuple(lines[: max(0, min(SECTION_CAP, room))])
        room -= len(shown)
        sections.append((section, shown, len(lines) - len(shown)))
    open_leads = [lead for lead in leads if lead.status is Status.OPEN]
    tally = {
        kind: sum(due(lead.next_follow_up, today, days.workdays) is kind for lead in open_leads)
        for kind in Due
    }
    counted = Counts(
        open=len(open_leads),
        overdue=tally[Due.OVERDUE],
        due_today=tally[Due.TODAY],
        upcoming=tally[Due.UPCOMING],
        to_decide=tally[Due.UNSCHEDULED],
        at_limit=sum(is_at_limit(lead, rules=rules) for lead in open_leads),
    )
    return Digest("U1", today, tuple(sections), counted)


# Santiago, Lord Howe and Chatham change their clocks within weeks of this
NOW = datetime(2026, 3, 28, 14, 0, tzinfo=UTC)
hours = st.integers(-24 * 200, 24 * 3).map(lambda h: NOW + timedelta(hours=h, minutes=17 * (h % 4)))
days_around = st.integers(-20, 20).map(lambda d: NOW.date() + timedelta(days=d))


@st.composite
def nudge_leads(draw: st.DrawFn, lead_id: int) -> NudgeLead:
    return NudgeLead(
        id=lead_id,
        name=draw(st.sampled_from(["Acme", "acme", "Birch", "Cobalt", "Dune", "Ember"])),
        status=draw(st.sampled_from(list(Status))),
        created_at=draw(hours),
        opted_out_at=draw(st.none() | hours),
        attempts=draw(st.integers(0, 14)),
        reached=draw(st.booleans()),
        last_touch_at=draw(st.none() | hours),
        last_contact_at=draw(st.none() | hours),
        next_follow_up=draw(st.none() | days_around),
        meeting_on=draw(st.none() | days_around),
        snoozed_until=draw(st.none() | days_around),
        meeting_reminded=draw(st.booleans()),
        declined=draw(st.booleans()),
        counting_since=draw(st.none() | hours),
    )


@st.composite
def pipelines(draw: st.DrawFn) -> list[NudgeLead]:
    return [draw(nudge_leads(lead_id)) for lead_id in range(draw(st.integers(0, 40)))]


@settings(max_examples=150, deadline=None)
@given(
    leads=pipelines(),
    zone=st.sampled_from(ZONES),
    workdays=st.frozensets(st.integers(0, 6)),  # empty too: read as every day
    shift=st.integers(-24 * 40, 24 * 40),
    rules=st.builds(
        Rules,
        attempts_limit=st.integers(1, 12),
        attempts_cap=st.integers(1, 12),
        stall_days=st.integers(1, 30),
        lapse_days=st.integers(1, 150),
    ),
)
def test_the_digest_is_what_the_rules_say_lead_by_lead(
    leads: list[NudgeLead], zone: str, workdays: frozenset[int], shift: int, rules: Rules
) -> None:
    now = NOW + timedelta(hours=shift)
    days = Days(ZoneInfo(zone), workdays)
    today = now.astimezone(days.tz).date()
    assert digest_for("U1", leads, now=now, today=today, rules=rules, days=days) == reference_digest(
        leads, now=now, today=today, rules=rules, days=days
    )
    for lead in leads:
        assert section_for(lead, now=now, today=today, rules=rules, days=days) == reference_section(
            lead, now=now, today=today, rules=rules, days=days
        )


def test_overdue_days_of_a_shared_follow_up_date_are_worked_out_per_rep() -> None:
    # Two reps on different weeks see the same date differently: nothing is carried from one digest to the next.
    friday = date(2026, 3, 27)
    monday_rep = Days(ZoneInfo("Europe/London"), frozenset(range(5)))
    sunday_rep = Days(ZoneInfo("Europe/London"), frozenset({6, 0, 1, 2, 3}))
    now = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # Monday
    lead = NudgeLead(
        *(1, "Acme", Status.OPEN, now - timedelta(days=9), None, 1, False, None, None),
        *(friday - timedelta(days=1), None, None, False, False, None),
    )
    for days in (monday_rep, sunday_rep):
        digest = digest_for("U1", [lead], now=now, today=now.date(), rules=Rules(), days=days)
        [(_, (item,), _)] = digest.sections
        assert item.overdue_days == overdue_days(lead.next_follow_up, now.date(), days.workdays)
