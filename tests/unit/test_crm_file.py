"""Reading CRM exports: the headers Salesforce and HubSpot write, their statuses and dates, and bad rows."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from coaching.crm_file import EXPORT_HEADERS, formula_safe, read_csv, read_date, unformula, write_csv
from coaching.crm_words import read_reached, read_status
from coaching.rules import Status

DATA = Path(__file__).resolve().parents[1] / "data"


def test_a_salesforce_lead_export_reads_company_as_the_lead_and_the_person_as_its_contact() -> None:
    parsed = read_csv((DATA / "salesforce_leads.csv").read_text())
    assert parsed.problems == []
    assert [row.lead for row in parsed.rows] == [
        "Acme Corp",
        "Acme Corp",
        "Globex Corporation",
        "Initech",
        "Initrode",
        "Umbrella Health",
    ]
    jane, bob = parsed.rows[0], parsed.rows[1]
    assert (jane.person, jane.role, jane.decision_maker) == ("Jane Doe", "CFO", True)
    assert (bob.person, bob.decision_maker) == ("Bob Smith", False)
    assert jane.owner == "dana@example.com"  # Owner Email wins over an empty Lead Owner
    assert jane.created == datetime(2026, 3, 14, 12, tzinfo=UTC)  # US month/day; a date alone is noon UTC
    assert jane.last_activity == datetime(2026, 11, 2, 12, tzinfo=UTC)
    assert [row.status for row in parsed.rows] == [
        Status.OPEN,  # Working - Contacted
        Status.OPEN,
        Status.OPEN,  # Open - Not Contacted
        Status.WON,  # Closed - Converted
        Status.LOST,  # Closed - Not Converted
        Status.BACKBURNER,  # Nurturing
    ]
    assert parsed.columns is not None
    assert set(parsed.columns.ignored) == {"Lead ID", "Rating"}
    assert (jane.email, jane.phone) == ("jane@acme.example", "555-0100")


def test_a_hubspot_contact_export_takes_the_most_final_of_lifecycle_stage_and_lead_status() -> None:
    parsed = read_csv((DATA / "hubspot_contacts.csv").read_text())
    assert parsed.problems == []
    by_lead = {row.lead: row for row in parsed.rows}
    assert by_lead["Hooli"].status is Status.WON  # Lifecycle Stage "Customer", Lead Status empty
    assert by_lead["Stark Industries"].status is Status.OPEN
    # Number of Sales Activities counts every call, e-mail and meeting: not unanswered attempts.
    assert by_lead["Stark Industries"].attempts == 0
    assert by_lead["Stark Industries"].owner == "U0SAM"  # Contact owner
    assert by_lead["Pied Piper"].last_activity == datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    assert by_lead["Pied Piper"].role == "CEO"  # Job Title


def test_the_report_says_how_each_column_was_understood() -> None:
    parsed = read_csv((DATA / "hubspot_contacts.csv").read_text())
    assert parsed.columns is not None
    understood = parsed.columns.understood(parsed.headers)
    assert "Company Name → lead" in understood
    assert "Contact owner → owner" in understood
    assert "Lifecycle Stage → status" in understood and "Lead Status → status" in understood


@pytest.mark.parametrize(
    ("words", "status"),
    [
        (["Closed - Lost to competitor"], Status.LOST),
        (["Qualified - demo booked"], Status.OPEN),
        (["closedwon"], Status.WON),  # HubSpot's internal deal stage value
        (["On Hold"], Status.BACKBURNER),
        (["Lead", "Unqualified"], Status.LOST),
        (["", ""], Status.OPEN),  # no status at all: a lead being worked
        ([], Status.OPEN),
        (["Banana"], None),
        (["Customer", "Banana"], None),  # one word Baton can't read is not guessed away
    ],
)
def test_statuses_are_read_by_their_telling_word(words: list[str], status: Status | None) -> None:
    assert read_status(words) is status


def test_dates_are_month_first_unless_the_file_is_day_first() -> None:
    assert read_date("03/04/2026", day_first=False) == datetime(2026, 3, 4, 12, tzinfo=UTC)
    assert read_date("03/04/2026", day_first=True) == datetime(2026, 4, 3, 12, tzinfo=UTC)
    assert read_date("25/12/2026", day_first=False) == datetime(
        2026, 12, 25, 12, tzinfo=UTC
    )  # only one reading
    assert read_date("2026-11-02T10:00:00Z", day_first=False) == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert read_date("2026-11-02 10:00:00+01:00", day_first=False) == datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert read_date("11/02/2026 3:15 PM", day_first=False) == datetime(2026, 11, 2, 15, 15, tzinfo=UTC)
    assert read_date("Nov 2, 2026", day_first=False) == datetime(2026, 11, 2, 12, tzinfo=UTC)
    # A date alone is noon UTC: the same day in New York and in Tokyo.
    assert read_date("2026-11-02", day_first=False) == datetime(2026, 11, 2, 12, tzinfo=UTC)
    assert read_date("2026-11-02 00:00", day_first=False) == datetime(2026, 11, 2, tzinfo=UTC)
    assert read_date("  ", day_first=False) is None
    with pytest.raises(ValueError):
        read_date("next tuesday", day_first=False)


def test_each_bad_row_is_named_by_its_spreadsheet_line_and_good_rows_still_read() -> None:
    text = (
        "Company,Owner Email,Lead Status,Created Date,Attempts,Decision Maker\n"
        "Acme Corp,dana@example.com,New,2026-11-01,2,yes\n"
        ",dana@example.com,New,,,\n"
        "Globex,,New,,,\n"
        "Initech,sam@example.com,Banana,someday,-1,maybe\n"
        'Hooli,sam@example.com,Working,,"1,204",\n'
    )
    parsed = read_csv(text)
    assert [row.lead for row in parsed.rows] == ["Acme Corp", "Hooli"]
    assert parsed.rows[1].attempts == 1204
    problems = {problem.line: problem.text for problem in parsed.problems}
    assert problems[3] == "no lead name"
    assert problems[4] == "no owner (or run with --default-owner)"
    assert "Banana" not in problems[5]  # a CRM's own stage is no problem: it is read as open, and reported
    assert "'someday' isn't a date" in problems[5]
    assert "attempts '-1' isn't a number" in problems[5]
    assert "decision-maker 'maybe' should be yes or no" in problems[5]


def test_a_file_without_a_lead_or_owner_column_is_refused_before_any_row() -> None:
    parsed = read_csv("Email,Phone\njane@acme.example,555\n")
    assert parsed.rows == []
    assert [p.line for p in parsed.problems] == [0, 0]
    assert "Company" in parsed.problems[0].text and "Owner Email" in parsed.problems[1].text
    assert read_csv("").problems[0].text == "The file is empty."


def test_excel_quirks_a_byte_order_mark_blank_lines_and_short_rows_are_forgiven() -> None:
    parsed = read_csv("\ufeffCompany,Lead Owner,Lead Status,Title\r\nAcme Corp,U0DANA\r\n\r\n,,\r\n")
    assert parsed.problems == []
    assert [(row.lead, row.owner, row.status, row.role) for row in parsed.rows] == [
        ("Acme Corp", "U0DANA", Status.OPEN, None)
    ]


def test_a_lead_name_longer_than_baton_allows_is_a_problem_not_a_truncation() -> None:
    parsed = read_csv(f"Company,Lead Owner\n{'A' * 300},U0DANA\n")
    assert parsed.rows == [] and "over" in parsed.problems[0].text


def test_exported_cells_never_run_as_spreadsheet_formulas_and_read_back_as_written() -> None:
    hostile = '=HYPERLINK("http://evil.example","click")'
    assert formula_safe(hostile) == "'" + hostile
    assert formula_safe("Acme Corp") == "Acme Corp"
    assert unformula(formula_safe(hostile)) == hostile
    assert unformula("'Quoted' Ltd") == "'Quoted' Ltd"  # an apostrophe of its own stays
    text = "".join(write_csv(EXPORT_HEADERS, [(hostile, "U0DANA", "open") + (None,) * 8]))
    assert text.splitlines()[1].startswith("\"'=HYPERLINK(")
    assert read_csv(text).rows[0].lead == hostile


@pytest.mark.parametrize(
    ("words", "reached"),
    [
        (["Working - Contacted"], True),  # Salesforce
        (["Open - Not Contacted"], False),
        (["Attempted to Contact"], False),  # HubSpot lead status
        (["Connected"], True),
        (["appointmentscheduled"], False),  # HubSpot's first deal stage
        (["qualifiedtobuy"], True),  # and those past it
        (["Contract Sent"], True),
        (["Proposal Sent"], True),
        (["Negotiation/Review"], True),  # Salesforce opportunity stages past Prospecting
        (["Prospecting"], False),
        (["Lead", "Sales Qualified Lead"], True),
        (["Marketing Qualified Lead"], False),
        (["New"], False),
        (["Closed Won"], True),
        (["Closed Lost"], False),
        ([], False),
    ],
)
def test_statuses_that_mean_a_conversation_mark_the_lead_reached(words: list[str], reached: bool) -> None:
    assert read_reached(words) is reached


def test_phones_e_mails_notes_opt_outs_and_lost_reasons_are_read_from_the_common_columns() -> None:
    parsed = read_csv(
        "Company,Lead Owner,Phone 1,Phone 2,Email 1,Email 2,Notes,Do Not Call,Email Opt Out,"
        "Unsubscribed from all email,Lead Status,Closed Lost Reason\n"
        "Acme,U0DANA,,+1 555  0100,,jane@acme.example,Met at the fair,0,false,,Closed Lost,Price\n"
        "Globex,U0DANA,555-0101,,hank@globex.example,,,1,,,New,\n"
        "Initech,U0DANA,,,,,,,,2026-10-01,New,\n"
        "Hooli,U0DANA,,,,,,maybe,,,New,\n"
    )
    acme, globex, initech = parsed.rows
    assert (acme.phone, acme.email, acme.notes, acme.opted_out, acme.lost_reason) == (
        "+1 555 0100",
        "jane@acme.example",
        "Met at the fair",
        False,
        "Price",
    )
    assert (globex.phone, globex.email, globex.opted_out, globex.opted_out_at) == (
        "555-0101",
        "hank@globex.example",
        True,
        None,
    )
    assert (initech.opted_out, initech.opted_out_at) == (True, datetime(2026, 10, 1, 12, tzinfo=UTC))
    assert [(p.line, p.text) for p in parsed.problems] == [
        (5, "opted out 'maybe' should be yes, no or a date")
    ]


def test_a_header_that_is_one_quoted_field_or_split_by_semicolons_is_explained() -> None:
    quoted = read_csv('"Company,Lead Owner,Deal Stage"\n"Acme,U0DANA,New"\n')
    assert [p.text for p in quoted.problems] == [
        "The header row is one quoted field holding a whole record ('Company,Lead Owner,Deal Stage'): the "
        "quotes around the line make it a single value. Remove the quote at the start and end of each line "
        "(or save the sheet again as CSV, with each value in its own column) and run the import again."
    ]
    semicolons = read_csv("Company;Lead Owner\nAcme;U0DANA\n")
    assert [p.text for p in semicolons.problems] == [
        "The header row is one field holding a whole record separated by semicolons ('Company;Lead Owner'): "
        "Baton reads comma-separated files. Save it again as CSV (comma delimited)."
    ]


def test_with_a_default_owner_a_file_or_row_without_one_is_not_a_problem() -> None:
    parsed = read_csv("Company,Lead Owner\nAcme,\n", default_owner=True)
    assert parsed.problems == [] and parsed.rows[0].owner == ""
    assert read_csv("Company\nAcme\n", default_owner=True).rows[0].owner == ""
