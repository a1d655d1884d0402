"""A pipeline exported, imported into another workspace and exported again comes back exact (issue 17 items 10-11)."""

import csv
import io
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.crm import run_import
from coaching.settings import TeamConfig
from handlers.blocks.ids import Action
from store.models import Lead
from tests.conftest import DANA, MORGAN, SAM, Harness, flatten
from tests.slack.round_trip import OTHER_TEAM, move_pipeline


def _lead_id(h: Harness, name: str) -> int:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead.id).where(Lead.name == name)).one()


def _rows(exported: str) -> dict[str, dict[str, str]]:
    return {row["Company"]: row for row in csv.DictReader(io.StringIO(exported))}


def _open_home(h: Harness, user: str) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"}
    assert h.slack.event(event).status == 200
    return h.api.views[f"VHOME{user}"]


def test_meetings_snoozes_attempts_and_a_handed_off_leads_last_contact_survive_a_move_to_another_workspace(
    harness: Harness,
) -> None:
    harness.clock.now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/logcall", "acme meeting 2026-11-26 demo with their ops team")
    harness.command(DANA, "/lead", "add Globex")
    for when in ("2026-11-19", "yesterday", "today"):  # three days of trying: tries on one day count once
        harness.command(DANA, "/logcall", f"globex voicemail {when}")
    harness.command(DANA, "/lead", "add Hooli")
    _open_home(harness, DANA)
    harness.slack.home_click(DANA, Action.DIGEST_SNOOZE, value=str(_lead_id(harness, "Hooli")))
    harness.command(DANA, "/lead", "add Initech")
    harness.command(DANA, "/logcall", "initech connected talked budgets with Bill")
    harness.clock.advance(days=1)
    harness.command(MORGAN, "/handoff", "initech @sam Sam covers finance")  # a manager's: at once
    harness.command(SAM, "/logcall", "initech voicemail")

    moved = move_pipeline(harness)
    assert moved.code == 0, moved.report
    before = _rows(moved.exported)
    assert before["Acme Corp"]["Meeting"] == "2026-11-26"
    assert before["Globex"]["Attempts"] == "3" and before["Globex"]["Reached"] == "no"
    assert before["Hooli"]["Snoozed Until"] == "2026-11-25"
    initech = before["Initech"]
    assert (initech["Lead Owner"], initech["Reached"], initech["Attempts"]) == (SAM, "no", "1")
    assert initech["Last Contacted"] == "2026-11-23T15:00:00+00:00"
    assert moved.again == moved.exported  # every column, every row, to the second

    # And the other workspace coaches them as the first did: the meeting is still there to remind.
    with harness.db.readers.begin() as session:
        other = {lead.name: lead for lead in session.scalars(select(Lead).where(Lead.team_id == OTHER_TEAM))}
    assert other["Initech"].ever_reached and not other["Initech"].reached
    assert other["Acme Corp"].meeting_on is not None and other["Hooli"].snoozed_until is not None


def _import(h: Harness, text: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        path.write_text(text)
        out = io.StringIO()
        code = run_import(
            h.db,
            None,
            path,
            team_id="T0TEST",
            defaults=TeamConfig(),
            dry_run=False,
            day_first=False,
            out=out,
            now=h.clock(),
        )
    assert code == 0, out.getvalue()
    return out.getvalue()


def test_leads_imported_without_dates_are_due_today_untouched_and_not_won_today(harness: Harness) -> None:
    _import(harness, f"Company,Lead Owner,Lead Status\nAcme Corp,{DANA},New\nGlobex,{DANA},Closed Won\n")
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    assert "*Last touch*\n_none yet_" in card  # the file dates nothing: no touch is claimed for today
    assert "Next follow-up *today* (due today)" in card  # a first try is due now, as with /lead add
    pipeline = flatten(harness.command(DANA, "/pipeline").blocks)
    assert "*Acme Corp* · due today · no attempts yet" in pipeline
    home = flatten(_open_home(harness, DANA)["blocks"])
    assert "Recent wins" not in home and "Globex" not in home  # a win of unknown date isn't "won today"
