"""`python -m bot import` and `export` against a stand-in Slack over HTTP: owners found by e-mail, id or name."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.crm import run_export, run_import
from bot.localslack import SlackApi, User, Workspace
from bot.slack import make_client
from coaching.settings import TeamConfig
from handlers.people import resolve_owners
from store.db import Database
from store.models import Lead
from tests.conftest import DANA, NOW, SAM, TEAM, TOKEN, people

DATA = Path(__file__).resolve().parents[1] / "data"
ALEX_ONE, ALEX_TWO, GONE = "U0ALEX1", "U0ALEX2", "U0GONE"


@pytest.fixture
def api() -> Iterator[SlackApi]:
    everyone = [
        *people(),
        User(ALEX_ONE, "alex.k", "Alex Kim"),
        User(ALEX_TWO, "alexk", "Alex Kim"),
        User(GONE, "pat", "Pat Former", deleted=True),
    ]
    slack = SlackApi(Workspace(team_id=TEAM, users={u.id: u for u in everyone}), token=TOKEN).start()
    yield slack
    slack.stop()


def test_owners_are_found_by_slack_id_e_mail_and_name_each_looked_up_once(api: SlackApi) -> None:
    client = make_client(TOKEN, api.url)
    written = ["dana@example.com", "DANA@EXAMPLE.COM", SAM, "Dana Reyes", "sam", "Alex Kim", GONE]
    found, why_not = resolve_owners(client, [*written, "dana@example.com", "Dana Reyes"])
    assert found == {
        "dana@example.com": DANA,
        "DANA@EXAMPLE.COM": DANA,
        SAM: SAM,
        "Dana Reyes": DANA,
        "sam": SAM,
    }
    assert why_not == {
        "Alex Kim": "2 people in Slack go by that name: use their e-mail",
        GONE: "their Slack account is deactivated",
    }
    assert len(api.calls_to("users.lookupByEmail")) == 2  # the two spellings, not every row
    assert len(api.calls_to("users.list")) == 1  # one directory read for all the names


def test_without_slack_ids_are_trusted_names_come_from_known_reps_and_e_mails_wait(api: SlackApi) -> None:
    found, why_not = resolve_owners(None, ["U0NEW", "Dana Reyes", "dana@example.com"], [(DANA, "Dana Reyes")])
    assert found == {"U0NEW": "U0NEW", "Dana Reyes": DANA}
    assert "SLACK_BOT_TOKEN" in why_not["dana@example.com"]
    assert api.calls == []


def pipeline(db: Database) -> dict[str, str]:
    with db.readers.begin() as session:
        return {lead.name: lead.owner_id for lead in session.scalars(select(Lead))}


def test_the_salesforce_file_imports_reports_each_row_and_a_second_run_changes_nothing(
    database: Database, api: SlackApi, tmp_path: Path
) -> None:
    client = make_client(TOKEN, api.url)

    def run(path: Path = DATA / "salesforce_leads.csv", **options: bool) -> tuple[int, str]:
        out = io.StringIO()
        code = run_import(
            database,
            client,
            path,
            team_id=TEAM,
            defaults=TeamConfig(),
            dry_run=options.get("dry_run", False),
            day_first=False,
            out=out,
            now=NOW,
        )
        return code, out.getvalue()

    code, report = run(dry_run=True)
    assert code == 0 and "dry run: nothing is written" in report
    assert "Dry run, would import: 5 new leads, 1 extra contact; no problems." in report
    assert pipeline(database) == {}

    code, report = run()
    assert code == 0
    assert "Company → lead" in report and "Owner Email → owner" in report  # how the columns were read
    assert "      2  add        Acme Corp" in report
    assert "      3  contact    Acme Corp" in report
    assert "Jane Doe" in report and "Bob Smith" in report
    assert "Columns Baton doesn't use (left out): Lead ID, Email, Phone, Rating" in report
    assert "Imported: 5 new leads, 1 extra contact; no problems." in report
    assert pipeline(database)["Acme Corp"] == DANA and pipeline(database)["Initrode"] == SAM

    code, report = run()
    assert code == 0 and "Imported: 5 unchanged, 1 extra contact; no problems." in report

    unknown = tmp_path / "more.csv"
    unknown.write_text("Company,Owner Email\nSoylent,kim@example.com\nHooli,Alex Kim\n")
    code, report = run(unknown)
    assert code == 1 and "Refused, nothing written: 2 problems (the rest: 2 new leads)." in report
    assert "row 2: owner 'kim@example.com': no one in this Slack workspace has that e-mail" in report
    assert "row 3: owner 'Alex Kim': 2 people in Slack go by that name: use their e-mail" in report
    assert "Soylent" not in pipeline(database)

    exported = io.StringIO()
    assert run_export(database, team_id=TEAM, touches=False, out=exported) == 0
    lines = exported.getvalue().splitlines()
    assert lines[0].startswith("Company,Lead Owner,Lead Status,Created Date,Last Activity Date,Attempts")
    assert lines[1].startswith("Acme Corp,U0DANA,open,2026-03-14T00:00:00+00:00,2026-11-02T00:00:00+00:00,0,")
    assert len(lines) == 6


def test_a_file_that_is_not_text_or_not_there_is_refused_politely(database: Database, tmp_path: Path) -> None:
    binary = tmp_path / "leads.xlsx"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe")
    for path in (binary, tmp_path / "missing.csv"):
        out = io.StringIO()
        code = run_import(
            database, None, path, team_id=TEAM, defaults=TeamConfig(), dry_run=False, day_first=False, out=out
        )
        assert code == 1 and out.getvalue().startswith(f"Can't read {path}")
    assert "save it as CSV" in _import(database, binary)


def _import(database: Database, path: Path) -> str:
    out = io.StringIO()
    run_import(
        database, None, path, team_id=TEAM, defaults=TeamConfig(), dry_run=True, day_first=False, out=out
    )
    return out.getvalue()


def test_a_windows_excel_csv_keeps_its_accents(database: Database, tmp_path: Path) -> None:
    windows = tmp_path / "leads.csv"
    windows.write_bytes("Company,Lead Owner\r\nCafé Zürich,U0DANA\r\n".encode("cp1252"))
    assert "add        Café Zürich" in _import(database, windows)
