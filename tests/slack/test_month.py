"""A month of working days for a rep in New York and a manager in Chicago, through the real app.

The clock ticks every half hour for four weeks, as `python -m bot clock` would; the rep types on
given days; every morning's digest and every Monday's review is checked against what a coach who
keeps the calendar would say (working days, a meeting reminded the Friday before, a "no" left
alone, overdue counted in working days). Runs on SQLite and PostgreSQL.
"""

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.localslack import Shown
from handlers.deliveries import Deliveries
from store.models import Delivery
from tests.conftest import DANA, MORGAN, Harness

START = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)  # Sunday evening in New York; Monday 2 November in UTC
END = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
TICK = timedelta(hours=1)

# What Dana types, at 10:00 in New York (15:00 UTC), on the days she types something.
SCRIPT: dict[date, list[tuple[str, str]]] = {
    date(2026, 11, 2): [
        ("/logcall", "acme vm"),  # four days on: Friday 6
        ("/logcall", "globex connected"),  # a week on: Monday 9
        ("/lead", "add Initech"),  # due at once, never touched
    ],
    date(2026, 11, 3): [("/logcall", "initech no-answer")],  # four days on is Saturday: Monday 9
    date(2026, 11, 6): [("/logcall", "acme email")],  # Tuesday 10
    date(2026, 11, 9): [
        ("/logcall", "globex meeting next monday"),  # Monday 16: reminded Friday 13
        ("/logcall", "initech vm"),  # Friday 13
    ],
    date(2026, 11, 12): [("/logcall", "acme not interested went with a competitor")],
    date(2026, 11, 13): [("/logcall", "globex email sent the agenda")],  # the reminder, done
    date(2026, 11, 17): [
        ("/logcall", "globex connected good meeting"),  # Tuesday 24
        ("/logcall", "initech no-answer"),  # four days on is Saturday: Monday 23
    ],
}

# Each working morning's digest: lead -> how its line reads (None: nothing needs Dana that day).
DUE = "due today"
EXPECTED: dict[date, dict[str, str] | None] = {
    # Both added on Friday 30 October, due at once, and not touched since.
    date(2026, 11, 2): {
        "Acme Corp": "1 working day overdue · no touch yet",
        "Globex": "1 working day overdue",
    },
    date(2026, 11, 3): {"Initech": "1 working day overdue · no touch yet"},
    date(2026, 11, 4): None,
    date(2026, 11, 5): None,
    date(2026, 11, 6): {"Acme Corp": DUE},
    date(2026, 11, 9): {"Globex": DUE, "Initech": DUE},
    date(2026, 11, 10): {"Acme Corp": DUE},
    date(2026, 11, 11): {"Acme Corp": "1 working day overdue"},
    date(2026, 11, 12): {"Acme Corp": "2 working days overdue"},
    date(2026, 11, 13): {"Globex": "meeting Mon 16 Nov", "Initech": DUE},
    date(2026, 11, 16): {"Initech": "1 working day overdue"},
    date(2026, 11, 17): {"Globex": DUE, "Initech": "2 working days overdue"},
    date(2026, 11, 18): None,
    date(2026, 11, 19): None,
    date(2026, 11, 20): None,
    date(2026, 11, 23): {"Initech": DUE},
    date(2026, 11, 24): {"Globex": DUE, "Initech": "1 working day overdue"},
    date(2026, 11, 25): {"Globex": "1 working day overdue", "Initech": "2 working days overdue"},
    date(2026, 11, 26): {"Globex": "2 working days overdue", "Initech": "3 working days overdue"},
    date(2026, 11, 27): {"Globex": "3 working days overdue", "Initech": "4 working days overdue"},
    date(2026, 11, 30): {"Globex": "4 working days overdue", "Initech": "5 working days overdue"},
}
MONDAYS = [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23), date(2026, 11, 30)]


def item_lines(message: Shown) -> dict[str, str]:
    """Each lead named in a digest, with the rest of its line."""
    lines = {}
    for block in message.blocks:
        text = (block.get("text") or {}).get("text", "") if block["type"] == "section" else ""
        found = re.match(r"^\*(.+?)\* · (.+)$", text)
        if found:
            lines[found.group(1)] = found.group(2)
    return lines


def test_a_month_of_mornings_for_a_rep_and_a_manager(harness: Harness) -> None:
    # Two leads added the Friday before, so Monday 2 November's digest has something to say.
    harness.clock.now = datetime(2026, 10, 30, 15, 0, tzinfo=UTC)
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/lead", "add Globex")
    deliveries = Deliveries(harness.baton.deps, harness.baton.client)
    digests: dict[date, Shown] = {}
    reviews: list[date] = []
    seen = 0
    at = START
    while at < END:
        typed_at = datetime.combine(at.date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
        if at - TICK < typed_at <= at:
            harness.clock.now = typed_at
            for command, text in SCRIPT.get(at.date(), []):
                harness.command(DANA, command, text)
        harness.clock.now = at
        deliveries.digests(at=at)
        deliveries.reviews(at=at)
        dms = harness.dms(DANA)
        for message in dms[seen:]:
            if "Good morning" in message.text:
                local_day = (at - timedelta(hours=5)).date()
                assert local_day not in digests, f"a second digest on {local_day}"
                digests[local_day] = message
        seen = len(dms)
        for message in harness.dms(MORGAN):
            if "Weekly review ·" in harness.seen_text(message) and message.id not in reviews:
                reviews.append(message.id)
                assert (at - timedelta(hours=6)).date() in MONDAYS, f"a review on {at}"
        at += TICK

    for day, expected in EXPECTED.items():
        if expected is None:
            assert day not in digests, f"{day}: nothing needed Dana, yet a digest came"
            continue
        assert day in digests, f"{day}: no digest"
        lines = item_lines(digests[day])
        assert set(lines) == set(expected), (day, lines)
        for name, phrase in expected.items():
            assert lines[name].startswith(phrase), (day, name, lines[name])
    assert all(d.weekday() < 5 for d in digests), "a digest on a day off"
    assert len(digests) == sum(e is not None for e in EXPECTED.values()) == 16
    assert len(reviews) == len(MONDAYS)
    with harness.db.readers.begin() as session:
        rows = session.scalars(
            select(Delivery).where(Delivery.user_id == DANA, Delivery.kind == "digest")
        ).all()
    # Exactly one delivery per working day (sent, or recorded as having nothing to say); none at the weekend.
    assert sorted(r.local_date for r in rows) == sorted(set(EXPECTED))
    # One definition of each count: the digest's headline and /pipeline agree (Acme said no, but is open).
    assert "*3* open · *2* overdue · *0* due today" in harness.seen_text(digests[date(2026, 11, 30)])
    assert "3 open, 2 overdue, 0 due today" in harness.command(DANA, "/pipeline").text
    # The "no" on Acme was answered once, when it was logged, and never brought up again.
    assert all("Acme Corp" not in item_lines(digests[d]) for d in digests if d > date(2026, 11, 12))
