"""`python -m bot import` and `export` against a stand-in Slack over HTTP: owners found by e-mail, id or name."""

import io
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import event, select

from bot.crm import IMPORT_CHUNK, run_export, run_import
from bot.localslack import SlackApi, User, Workspace
from bot.slack import make_client
from coaching.settings import TeamConfig
from handlers.people import resolve_owners
from store.db import Database
from store.models import Lead
from tests.conftest import DANA, NOW, SAM, TEAM, TOKEN, Harness, flatten, people

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
    assert "Dry run, would import: 5 new leads, 6 contacts added; no problems." in report
    assert pipeline(database) == {}

    code, report = run()
    assert code == 0
    assert "Company → lead" in report and "Owner Email → owner" in report  # how the columns were read
    assert "      2  add        Acme Corp" in report
    assert "      3  contact    Acme Corp" in report
    assert "Jane Doe" in report and "Bob Smith" in report
    assert "Columns Baton doesn't use (left out): Lead ID, Rating" in report
    assert "Imported: 5 new leads, 6 contacts added; no problems." in report
    assert pipeline(database)["Acme Corp"] == DANA and pipeline(database)["Initrode"] == SAM

    code, report = run()
    assert code == 0 and "Imported: 5 unchanged; no problems." in report

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
    assert lines[0].startswith(
        "Company,Lead Owner,Lead Owner Name,Lead Status,Lost Reason,Opted Out,Created Date"
    )
    assert lines[1].startswith(
        "Acme Corp,U0DANA,Dana Reyes,open,,,2026-03-14T12:00:00+00:00,2026-11-02T12:00:00+00:00,"
        "2026-11-02T12:00:00+00:00,yes,0,Jane Doe,CFO,yes,jane@acme.example,555-0100,"
    )
    assert len(lines) == 7  # a row per contact


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


# ---- a public sample export whose owners nobody in Slack has (issue 12) ---------------------------------


def _run(database: Database, client: WebClient | None, path: Path, **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = run_import(
        database,
        client,
        path,
        team_id=TEAM,
        defaults=TeamConfig(),
        dry_run=options.pop("dry_run", False),
        day_first=False,
        out=out,
        now=NOW,
        **options,
    )
    return code, out.getvalue()


def test_a_sample_export_whose_owners_are_not_in_slack_goes_to_the_people_named_and_says_who_got_what(
    database: Database, api: SlackApi, tmp_path: Path
) -> None:
    client = make_client(TOKEN, api.url)
    code, report = _run(database, client, DATA / "sample_leads.csv")
    assert code == 1
    assert (
        "  row 2: owner 'Kristina Dalton' (also rows 3, 7): no one in this Slack workspace goes by that name: "
        "use their e-mail or Slack id"
    ) in report.splitlines()
    assert "Refused, nothing written: 3 problems (the rest: 6 new leads, 7 contacts added)." in report
    assert pipeline(database) == {}

    owners = tmp_path / "owners.csv"
    owners.write_text("CRM owner,Slack\nkristina dalton,sam@example.com\nJoy Lam,U0SAM\n")
    code, report = _run(
        database, client, DATA / "sample_leads.csv", owners_file=owners, default_owner="Dana Reyes"
    )
    assert code == 0, report
    lines = report.splitlines()
    start = lines.index("Owners:")
    assert lines[start + 1 : start + 4] == [
        "  'Kristina Dalton' → Sam Okafor (U0SAM): 3 rows, from owners.csv",
        "  'Joy Lam' → Sam Okafor (U0SAM): 2 rows, from owners.csv",
        "  'Marcus Whitfield-Oyelaran-Montgomery III' → Dana Reyes (U0DANA): 2 rows, "
        "--default-owner (not found)",
    ]
    assert lines[start + 4 : start + 7] == [
        "Statuses:",
        "  'Qualification' → open: 2 rows",
        "  'Closed Lost' → lost: 1 row",
    ]
    header = next(n for n, line in enumerate(lines) if line.split()[:2] == ["row", "action"])
    rows = lines[header : header + 8]
    assert rows[0].split() == ["row", "action", "lead", "owner", "status", "contact", "notes"]
    assert rows[3] == (
        "      4  add        Corvid Analytics                 Dana Reyes           open        Lena Petrov"
        "              in conversation"
    )
    # A long owner, lead or contact name never pushes the columns out of line.
    assert [line[74:85].strip() for line in rows[1:8]] == ["open"] * 5 + ["won", "lost"]
    assert "Columns Baton doesn't use (left out): Index, Account Id, Website, Source" in report
    assert lines[-1] == "Imported: 6 new leads, 7 contacts added; no problems."
    assert pipeline(database)["Bluefin Logistics"] == SAM and pipeline(database)["Lumen Print Co"] == DANA

    code, report = _run(database, client, DATA / "sample_leads.csv", default_owner="dana@example.com")
    assert code == 0
    assert "  'Joy Lam' → Dana Reyes (U0DANA): 2 rows, --default-owner (not found)" in report
    assert report.splitlines()[-1] == "Imported: 4 updated, 2 unchanged; no problems."  # Sam's four, to Dana


def test_an_unknown_default_owner_or_a_broken_owners_file_refuses_the_import(
    database: Database, api: SlackApi, tmp_path: Path
) -> None:
    owners = tmp_path / "owners.csv"
    owners.write_text("Joy Lam\nKristina Dalton,Nobody Here\n")
    code, report = _run(
        database,
        make_client(TOKEN, api.url),
        DATA / "sample_leads.csv",
        owners_file=owners,
        default_owner="kim@example.com",
    )
    assert code == 1
    assert (
        "  the file: --default-owner 'kim@example.com': no one in this Slack workspace has that e-mail"
        in report
    )
    assert (
        "  the file: owners.csv row 1: write the CRM owner, a comma, then their Slack id, e-mail or name"
        in report
    )
    assert (
        "  row 2: owner 'Kristina Dalton' (also rows 3, 7): owners.csv gives 'Nobody Here': no one in this Slack "
        "workspace goes by that name: use their e-mail or Slack id"
    ) in report
    assert pipeline(database) == {}


def test_a_line_that_is_one_quoted_field_says_what_it_looks_like_and_how_to_fix_it(
    database: Database, tmp_path: Path
) -> None:
    quoted = tmp_path / "leads.csv"
    quoted.write_text('Company,Lead Owner,Deal Stage\n"Acme Corp,U0DANA,Negotiation"\nGlobex,U0DANA,New\n')
    code, report = _run(database, None, quoted)
    assert code == 1
    assert (
        "  row 2: This line is one quoted field holding a whole record ('Acme Corp,U0DANA,Negotiation'): "
        "the quotes around the line make it a single value. Remove the quote at the start and end of each "
        "line (or save the sheet again as CSV, with each value in its own column) and run the import again."
    ) in report.splitlines()


def test_imported_contact_details_and_notes_are_on_the_lead_card(harness: Harness) -> None:
    code, report = _run(
        harness.db, make_client(TOKEN, harness.api.url), DATA / "sample_leads.csv", default_owner=DANA
    )
    assert code == 0, report
    card = flatten(harness.command(DANA, "/lead", "show bluefin").blocks)
    assert "*Talking to*\nOmar Haddad · 001-202-555-0163 · omar.haddad@bluefin.example" in card
    assert "• Rosa Whitaker · +1-202-555-0147 · rosa.whitaker@bluefin.example" in card
    assert "*Notes*\nWants a pilot for two warehouses before the spring peak." in card
    assert "*Attempts*\nIn touch · last two-way contact today" in card
    card = flatten(harness.command(DANA, "/lead", "show corvid").blocks)
    assert '*Notes*\nSent pricing for 40 seats; CFO signs off, "after Q1" budget.' in card


def test_a_deal_at_contract_sent_is_coached_as_in_touch_not_as_eleven_unanswered_tries(
    harness: Harness, tmp_path: Path
) -> None:
    deals = tmp_path / "hubspot_deals.csv"
    five_days_ago = (NOW - timedelta(days=5)).date()
    deals.write_text(
        "Deal Name,Deal owner,Deal Stage,Last Contacted,Number of Sales Activities\n"
        f"Acme Corp,{DANA},contractsent,{five_days_ago},11\n"
    )
    code, report = _run(harness.db, None, deals)
    assert code == 0, report
    assert "Number of Sales Activities → activities (not counted as unanswered tries)" in report
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    assert "*Attempts*\nIn touch · last two-way contact 5 days ago" in card
    assert "11" not in card
    harness.command(DANA, "/logcall", "acme voicemail")
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    assert "*Attempts*\nIn touch · last two-way contact 5 days ago · 1 try since" in card


def test_lead_contact_keeps_an_e_mail_and_a_phone_and_the_card_shows_them(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    reply = flatten(
        harness.command(DANA, "/lead", "contact Acme Jane Doe, VP Sales jane@acme.com +1 555 0100 dm").blocks
    )
    assert reply == (
        ":bust_in_silhouette: Saved Jane Doe, VP Sales · *decision-maker* · +1 555 0100 · jane@acme.com on *Acme Corp*.\n"
        "Read as person “Jane Doe”, role “VP Sales”, decision-maker, e-mail jane@acme.com, phone +1 555 0100."
    )
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    assert "*Talking to*\nJane Doe, VP Sales · *decision-maker* · +1 555 0100 · jane@acme.com" in card


def test_an_owners_file_that_is_not_there_is_named_in_the_refusal(database: Database, tmp_path: Path) -> None:
    missing = tmp_path / "owners.csv"
    code, report = _run(database, None, DATA / "sample_leads.csv", owners_file=missing)
    assert code == 1 and report.startswith(f"Can't read {missing}: ")
    assert pipeline(database) == {}


# ---- a CRM's own statuses (issue 17 item 12) -------------------------------------------------------------


def test_a_status_baton_does_not_know_is_imported_as_open_and_the_report_says_how_each_status_was_read(
    harness: Harness, tmp_path: Path
) -> None:
    export = tmp_path / "leads.csv"
    export.write_text(
        (DATA / "sample_leads.csv").read_text()
        + "8,0a1B2c3D4e5F6a7,Joy Lam,Ines,Duarte,Quarry Hill Foods,,,ines@quarry.example,,,Web,Re-engagement,\n"
        + "9,0a1B2c3D4e5F6a8,Joy Lam,Theo,Marsh,Tallow & Wick,,,,,,Web,Closed - Lost to competitor,\n"
    )
    code, report = _run(harness.db, None, export, default_owner=DANA)
    assert code == 0, report
    lines = report.splitlines()
    assert (
        "  'Re-engagement' → open: 1 row: a status Baton doesn't know, imported as open (to read it otherwise, "
        "map it in a file given with --statuses MAP.csv)"
    ) in lines
    assert "  'Closed - Lost to competitor' → lost: 1 row, read by its telling word" in lines
    assert lines[-1] == "Imported: 8 new leads, 9 contacts added; no problems."
    pipeline_reply = flatten(harness.command(DANA, "/pipeline", "").blocks)
    assert "Quarry Hill Foods" in pipeline_reply  # an open lead Dana works like any other

    statuses = tmp_path / "statuses.csv"
    statuses.write_text("CRM status,Baton\nRe-engagement,backburner\n")
    code, report = _run(harness.db, None, export, default_owner=DANA, statuses_file=statuses)
    assert code == 0, report
    assert "  'Re-engagement' → backburner: 1 row, from the statuses file" in report.splitlines()
    assert "Quarry Hill Foods                Dana Reyes           backburner" in report
    card = flatten(harness.command(DANA, "/lead", "show quarry").blocks)
    assert "back-burner" in card.lower()

    statuses.write_text("Re-engagement,maybe later\n")
    code, report = _run(harness.db, None, export, default_owner=DANA, statuses_file=statuses)
    assert code == 1
    assert (
        "  the file: statuses.csv row 1: write the CRM's status, a comma, then open, won, lost or backburner"
        in report.splitlines()
    )


# ---- hostile or odd files (issue 17 item 20) -------------------------------------------------------------


def test_binary_content_a_huge_value_and_an_unclosed_quote_are_refused_with_a_reason_and_nothing_written(
    database: Database, tmp_path: Path
) -> None:
    good = "Company,Lead Owner,Notes\nAcme Corp,U0DANA,first\n"
    binary = tmp_path / "binary.csv"
    binary.write_bytes(good.encode() * 3000 + b"Globex,U0DANA,\x00\x01\x02\xff\n")  # past the first 4 KiB
    huge = tmp_path / "huge.csv"
    huge.write_text(good + "Globex,U0DANA," + "x" * 200_000 + "\n")
    unclosed = tmp_path / "unclosed.csv"
    unclosed.write_text(good + 'Globex,U0DANA,"he said\nInitech,U0DANA,third\nHooli,U0DANA,fourth\n')
    runaway = tmp_path / "runaway.csv"
    runaway.write_text(good + 'Globex,U0DANA,"' + "y,\n" * 70_000)
    one_line = tmp_path / "one_line.csv"
    one_line.write_text(good + "z" * (2 * 1024 * 1024))
    expected = {
        binary: "Can't read "
        + str(binary)
        + ": it holds binary data (a NUL byte at byte 144,014), not text: "
        "export it from the CRM again as CSV",
        huge: '  row 3: a value here runs over 128 KiB: usually a quote (") that opens and never closes, so '
        "everything after it reads as one value. Check the quotes on this line.",
        unclosed: '  row 3: a quote (") opens on this line and never closes, so the rest of the file reads as '
        "one value: close the quote (or remove it) and run the import again.",
        runaway: '  row 3: a value here runs over 128 KiB: usually a quote (") that opens and never closes, so '
        "everything after it reads as one value. Check the quotes on this line.",
        one_line: "  row 3: line 3 runs over 1 MB without a line break: this is not a CSV export Baton can "
        "read (save the sheet as CSV UTF-8).",
    }
    for path, message in expected.items():
        code, report = _run(database, None, path)
        assert code == 1, report
        assert message in report.splitlines(), report
        assert "Traceback" not in report
    assert pipeline(database) == {}


def test_only_a_regular_file_is_read_a_pipe_or_a_device_is_refused_at_once(
    database: Database, tmp_path: Path
) -> None:
    fifo = tmp_path / "leads.csv"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    for path in (fifo, Path("/dev/zero"), tmp_path):
        code, report = _run(database, None, path)
        assert code == 1
        assert report == (
            f"Can't read {path}: it isn't a regular file (a pipe, a device or a folder): "
            "save the export to a file\n"
        )


def test_a_big_import_writes_in_short_turns_so_commands_never_wait_for_the_whole_file(
    database: Database, api: SlackApi, tmp_path: Path
) -> None:
    leads = 3 * IMPORT_CHUNK + 1
    big = tmp_path / "big.csv"
    big.write_text("Company,Owner\n" + "".join(f"Company {i},{DANA}\n" for i in range(leads)))
    turns: list[int] = []  # leads in the table at each write transaction's end

    def counted(connection: Any) -> None:
        turns.append(connection.exec_driver_sql("SELECT count(*) FROM lead").scalar())

    event.listen(database.engine, "commit", counted)
    try:
        code = run_import(
            database,
            make_client(TOKEN, api.url),
            big,
            team_id=TEAM,
            defaults=TeamConfig(),
            dry_run=False,
            day_first=False,
            out=io.StringIO(),
            now=NOW,
        )
    finally:
        event.remove(database.engine, "commit", counted)
    assert code == 0 and len(pipeline(database)) == leads
    # One 60,000-row transaction held SQLite's only write lock for 11 s: every command meanwhile
    # waited past Slack's 3 seconds. Each turn now writes a few hundred leads.
    grew = [after - before for before, after in zip([0, *turns], turns, strict=False)]
    assert max(grew) <= IMPORT_CHUNK
    assert sum(grew) == leads
