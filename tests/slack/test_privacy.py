"""Erasure on request, end to end: a person named in Slack, erased, and kept out of the next import."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.crm import run_import
from coaching.privacy import ERASED_NOTE, NothingToErase, erase
from coaching.settings import TeamConfig
from store.models import Contact, Erasure, Inbox, Lead, Touch
from tests.conftest import DANA, NOW, TEAM, Harness, flatten

CSV = (
    "Company,Lead Owner,First Name,Last Name,Email,Job Title,Lead Status\n"
    "Wayne Enterprises,U0DANA,Lucius,Fox,lucius@wayne.example,CTO,Open\n"
)


def _names_lucius(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Wayne Enterprises")
    harness.command(
        DANA, "/lead", "contact Wayne Enterprises Lucius Fox, CTO lucius@wayne.example +1 555 0100"
    )
    harness.command(DANA, "/logcall", "wayne connected talked to Lucius Fox about the pilot")
    harness.command(DANA, "/logcall", "wayne email sent the deck")


def test_erasing_by_email_removes_the_person_and_the_notes_naming_them_and_keeps_the_counts(
    harness: Harness,
) -> None:
    _names_lucius(harness)
    with harness.db.sessions.begin() as session:
        report = erase(session, now=NOW, team_id=TEAM, email="LUCIUS@wayne.example ")
    assert (report.contacts, report.notes, report.leads) == (1, 1, 0)
    assert report.requests >= 1  # the /lead contact and /logcall requests kept in the inbox named him
    card = flatten(harness.command(DANA, "/lead", "show wayne").blocks)
    assert "Lucius" not in card and "lucius@" not in card and "555 0100" not in card
    with harness.db.readers.begin() as session:
        notes = session.scalars(select(Touch.note).order_by(Touch.id)).all()
        kept = session.scalars(select(Inbox.body)).all()
        erasures = session.scalars(select(Erasure)).all()
    assert notes == [ERASED_NOTE, "sent the deck"]  # both touches stay: the manager's counts don't change
    assert not any("lucius" in body.casefold() for body in kept)
    # That it happened is recorded, never who it was.
    assert {e.kind for e in erasures} == {"email", "person"}
    assert not any("lucius" in e.fingerprint for e in erasures)


def test_an_erased_person_does_not_come_back_with_the_next_import(harness: Harness, tmp_path: Path) -> None:
    _names_lucius(harness)
    with harness.db.sessions.begin() as session:
        erase(session, now=NOW, team_id=TEAM, email="lucius@wayne.example")
    path = tmp_path / "crm.csv"
    path.write_text(CSV)
    out = io.StringIO()
    code = run_import(
        harness.db,
        None,
        path,
        team_id=TEAM,
        defaults=TeamConfig(),
        dry_run=False,
        day_first=False,
        out=out,
        now=NOW,
    )
    assert code == 0, out.getvalue()
    assert "1 row(s) name someone erased on request" in out.getvalue()
    with harness.db.readers.begin() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0
        assert session.scalar(select(func.count()).select_from(Lead)) == 1  # the company itself stays


def test_erasing_a_whole_lead_anonymises_it_and_keeps_it_out_of_imports(
    harness: Harness, tmp_path: Path
) -> None:
    _names_lucius(harness)
    with harness.db.sessions.begin() as session:
        report = erase(session, now=NOW, team_id=TEAM, lead_name="wayne enterprises")
    assert (report.contacts, report.leads) == (1, 1)
    with harness.db.readers.begin() as session:
        lead = session.scalars(select(Lead)).one()
        notes = session.scalars(select(Touch.note)).all()
    assert lead.name == f"Erased lead {lead.id}"
    assert notes == [ERASED_NOTE, ERASED_NOTE]
    path = tmp_path / "crm.csv"
    path.write_text(CSV)
    out = io.StringIO()
    run_import(
        harness.db,
        None,
        path,
        team_id=TEAM,
        defaults=TeamConfig(),
        dry_run=False,
        day_first=False,
        out=out,
        now=NOW,
    )
    with harness.db.readers.begin() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 1


def test_nothing_matching_changes_nothing(harness: Harness) -> None:
    _names_lucius(harness)
    with harness.db.sessions.begin() as session, pytest.raises(NothingToErase):
        erase(session, now=NOW, team_id=TEAM, email="nobody@example.com")
    with harness.db.readers.begin() as session:
        assert session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_the_command_line_reports_what_it_touched(tmp_path: Path) -> None:
    db = tmp_path / "baton.db"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{db}"}
    run = [sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env"), "privacy", "erase"]
    missing = subprocess.run(
        [*run, "--email", "a@b.example"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert (
        missing.returncode == 1 and "Nothing erased: no contact has the e-mail a@b.example" in missing.stderr
    )
    lead = subprocess.run([*run, "--lead", "Acme"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert lead.returncode == 2 and "needs its team" in lead.stderr
