"""Awkward input gets a clear answer and is stored exactly; bursts are all acknowledged in time; failures are kind."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.crm import run_import
from coaching.settings import TeamConfig
from coaching.touches import NOTE_LIMIT
from store.models import Lead, Rep, Touch
from tests.conftest import DANA, MORGAN, SAM, Harness, flatten

NASTY_NOTES = [
    "x" * 20_000,
    "🚀 déjà vu — 日本語 — \u200b zero-width and 👩‍👩‍👧 family",
    "He said \"50% off\" isn't 'enough' %s %d %(name)s {0} {name}",
    "'; DROP TABLE touch; -- and 1=1 OR ''='",
    "line one\n\n  indented line three\ttab",
    "<script>alert(1)</script> &amp; <https://evil.example|click me> & <mailto:a@b.c>",
    "`code` *bold* _italics_ ~strike~ > not a quote",
]


@pytest.mark.parametrize(
    "note", NASTY_NOTES, ids=["20k", "emoji", "quotes-percent", "sql", "whitespace", "html", "mrkdwn"]
)
def test_awkward_notes_are_stored_exactly_and_answered_clearly(harness: Harness, note: str) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    reply = harness.command(DANA, "/logcall", f"Acme Corp email {note}")
    assert "Logged an *email* on *Acme Corp*" in flatten(reply.blocks)
    with harness.db.readers.begin() as session:
        stored = session.scalars(select(Touch.note)).one()
    assert stored == note.strip()[:NOTE_LIMIT]  # a longer note keeps its start...
    if len(note) > NOTE_LIMIT:  # ...and the reply gives the rest back
        assert f"Your note was {len(note):,} characters" in flatten(reply.blocks)


def test_nul_bytes_are_dropped_with_a_word_and_the_rest_is_kept(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    reply = harness.command(DANA, "/logcall", "Acme Corp email sent\x00 the\x00 deck")
    assert "Removed 2 invisible control character(s)" in flatten(reply.blocks)
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Touch.note)).one() == "sent the deck"


def test_a_nul_in_a_slack_real_name_is_dropped_and_the_profile_still_updates(harness: Harness) -> None:
    user = harness.api.workspace.users[SAM].to_slack("T0TEST")
    renamed = {**user, "real_name": "Sam\x00 Okafor-Hale", "profile": {"real_name": "Sam\x00 Okafor-Hale"}}
    assert harness.slack.event({"type": "user_change", "user": renamed}).status == 200
    with harness.db.readers.begin() as session:  # on PostgreSQL the NUL made the whole update fail
        assert session.scalars(select(Rep.name).where(Rep.user_id == SAM)).one() == "Sam Okafor-Hale"


def test_an_enormous_lead_name_is_refused_politely(harness: Harness) -> None:
    reply = harness.command(DANA, "/lead", "add " + "Acme " * 5000)
    assert "up to 150 characters" in flatten(reply.blocks)
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead)).all() == []


def test_a_burst_of_fifty_commands_is_all_acknowledged_in_time_and_all_logged(harness: Harness) -> None:
    for index in range(50):
        harness.command(DANA, "/lead", f"add Lead {index:02d}")
    bodies = [harness.slack.command_body(DANA, "/logcall", f"Lead {i:02d} vm burst {i}") for i in range(50)]
    start = threading.Barrier(50)

    def send(body: str) -> tuple[int, float]:
        start.wait()
        reply = harness.slack.send(body, "application/x-www-form-urlencoded")
        return reply.status, reply.seconds

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(send, bodies))
    harness.baton.pool.wait_idle()
    assert [status for status, _ in results] == [200] * 50
    assert max(seconds for _, seconds in results) < 3.0  # Slack's acknowledgement deadline
    with harness.db.readers.begin() as session:
        notes = sorted(session.scalars(select(Touch.note)))
    assert notes == sorted(f"burst {i}" for i in range(50))
    replies = [m for m in harness.api.seen_by(DANA) if "burst" in flatten(m.blocks)]
    assert len(replies) == 50


def test_a_failure_inside_baton_gets_a_kind_reply_and_the_typed_text_back(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    with harness.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE touch RENAME TO touch_gone"))  # something really breaks
    try:
        reply = harness.command(DANA, "/logcall", "Acme Corp vm the note I typed")
    finally:
        with harness.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE touch_gone RENAME TO touch"))
    shown = flatten(reply.blocks)
    assert "something went wrong on Baton's side" in shown
    assert "the note I typed" in shown  # nothing to retype
    assert "Traceback" not in shown and "sqlalchemy" not in shown.lower()


def test_mentions_in_imported_and_typed_text_ping_nobody_in_the_managers_request_or_on_the_card(
    harness: Harness, tmp_path: Path
) -> None:
    export = tmp_path / "leads.csv"
    export.write_text(
        "Company,Lead Owner,First Name,Last Name,Notes\n"
        '"Acme <@U0MORGAN> Corp",U0DANA,Jo,"<!here> Smith","call <@U0MORGAN|morgan> in <#C0SALES|sales>"\n'
    )
    out = io.StringIO()
    code = run_import(
        harness.db,
        None,
        export,
        team_id="T0TEST",
        defaults=TeamConfig(),
        dry_run=False,
        day_first=False,
        out=out,
    )
    assert code == 0, out.getvalue()
    harness.command(DANA, "/handoff", "acme @sam they know <@U0MORGAN|morgan> from <#C0SALES|sales>")
    [card] = [m for m in harness.dms(MORGAN) if "Hand-off request" in flatten(m.blocks)]
    shown = flatten(card.blocks) + card.text
    assert "Acme @U0MORGAN Corp" in shown and "they know @morgan from #sales" in shown
    lead_card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    assert "call @morgan in #sales" in lead_card and "@here Smith" in lead_card
    for seen in (shown, lead_card):
        assert "<@U0MORGAN" not in seen and "<#C0SALES" not in seen and "<!here" not in seen
