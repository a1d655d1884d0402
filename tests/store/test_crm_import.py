"""Importing a CRM export on a real database: all or nothing, safe to run twice, and an export reads back unchanged."""

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from coaching import people
from coaching.crm_export import pipeline_rows, touch_rows
from coaching.crm_file import EXPORT_HEADERS, TOUCH_HEADERS, Row, read_csv, write_csv
from coaching.crm_import import Action, ImportPlan, import_rows
from coaching.leads import StatusChanged
from coaching.people import Profile
from coaching.rules import Rules, Status
from coaching.touches import log_from_text
from store import queries
from store.db import Database
from store.models import Contact, Lead
from tests.conftest import DANA, NOW, SAM, TEAM
from tests.store.test_leads import caller
from tests.store.test_leads import run as run_lead

DATA = Path(__file__).resolve().parents[1] / "data"
OWNERS = {"dana@example.com": DANA, "sam@example.com": SAM, DANA: DANA, SAM: SAM}


def salesforce() -> list[Row]:
    return read_csv((DATA / "salesforce_leads.csv").read_text()).rows


def run(
    db: Database,
    rows: list[Row],
    *,
    write: bool = True,
    owners: dict[str, str] | None = None,
    now: datetime = NOW,
    team: str = TEAM,
) -> ImportPlan:
    with db.sessions.begin() as session:
        return import_rows(
            session,
            team_id=team,
            rows=rows,
            owners=OWNERS if owners is None else owners,
            unknown={"kim@example.com": "no one in this Slack workspace has that e-mail"},
            user_id="import",
            now=now,
            rules=Rules(),
            write=write,
        )


def leads(db: Database, team: str = TEAM) -> dict[str, Lead]:
    with db.readers.begin() as session:
        found = session.scalars(select(Lead).where(Lead.team_id == team)).all()
        session.expunge_all()
    return {lead.name: lead for lead in found}


def contacts(db: Database) -> list[tuple[str, str, str | None, bool]]:
    with db.readers.begin() as session:
        query = select(Lead.name, Contact.name, Contact.role, Contact.is_decision_maker).join(
            Lead, Lead.id == Contact.lead_id
        )
        return sorted(tuple(row) for row in session.execute(query))  # type: ignore[misc]


def test_a_salesforce_export_becomes_leads_with_owners_contacts_and_a_next_follow_up(
    database: Database,
) -> None:
    plan = run(database, salesforce())
    assert plan.ok
    assert (plan.count(Action.ADD), plan.count(Action.CONTACT)) == (5, 1)
    pipeline = leads(database)
    assert sorted(pipeline) == ["Acme Corp", "Globex Corporation", "Initech", "Initrode", "Umbrella Health"]
    acme = pipeline["Acme Corp"]
    assert (acme.owner_id, acme.status) == (DANA, "open")
    assert acme.created_at == datetime(2026, 3, 14, 12, tzinfo=UTC)
    assert acme.last_touch_at == datetime(2026, 11, 2, 12, tzinfo=UTC)
    # Last touched 2 November: the 3-day cadence made it due on the 5th, so it is due now, not in the past.
    assert acme.next_follow_up == NOW.date()
    assert pipeline["Globex Corporation"].owner_id == SAM
    initech = pipeline["Initech"]
    assert (initech.status, initech.next_follow_up) == ("won", None)
    assert initech.closed_at == datetime(2026, 8, 30, 12, tzinfo=UTC)  # when it last moved, not import day
    assert pipeline["Umbrella Health"].status == "backburner"
    assert ("Acme Corp", "Bob Smith", "Ops Manager", False) in contacts(database)
    assert ("Acme Corp", "Jane Doe", "CFO", True) in contacts(database)
    assert len(contacts(database)) == 6


def test_one_unknown_owner_refuses_the_whole_file_and_writes_nothing(database: Database) -> None:
    text = (DATA / "salesforce_leads.csv").read_text() + (
        "00Q5e00000AbCdK,Kim,Lee,CTO,Soylent,kim@soylent.example,,Working - Contacted,,"
        "kim@example.com,03/14/2026,,,\n"
    )
    plan = run(database, read_csv(text).rows)
    assert not plan.ok
    assert [(p.line, p.text) for p in plan.problems] == [
        (8, "owner 'kim@example.com': no one in this Slack workspace has that e-mail")
    ]
    assert plan.count(Action.ADD) == 6  # the report still says what the rest would have done
    assert leads(database) == {} and contacts(database) == []


def test_an_unknown_owner_on_many_rows_is_one_problem_naming_them(database: Database) -> None:
    rows = read_csv("Company,Owner Email\n" + "".join(f"Lead {n},kim@example.com\n" for n in range(14))).rows
    (problem,) = run(database, rows).problems
    assert problem.line == 2
    assert "(also rows 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 and more)" in problem.text


def test_a_dry_run_plans_everything_and_writes_nothing(database: Database) -> None:
    plan = run(database, salesforce(), write=False)
    assert plan.ok and plan.count(Action.ADD) == 5
    assert leads(database) == {}


def test_running_the_same_file_twice_changes_nothing_the_second_time(database: Database) -> None:
    run(database, salesforce())
    before = leads(database)
    again = run(database, salesforce(), now=NOW + timedelta(days=1))
    assert again.ok
    assert again.leads(Action.UNCHANGED) == 5 and again.count(Action.ADD) == 0
    assert again.count(Action.UNCHANGED) == 6 and again.contacts("added") == 0  # Bob's row too
    after = leads(database)
    assert {n: (lead.id, lead.next_follow_up) for n, lead in after.items()} == {
        n: (lead.id, lead.next_follow_up) for n, lead in before.items()
    }
    assert len(contacts(database)) == 6  # no contact twice


def test_a_newer_export_updates_owner_status_and_last_activity(database: Database) -> None:
    run(database, salesforce())
    newer = read_csv(
        "Company,Owner Email,Lead Status,Last Activity Date,Contact Name,Decision Maker\n"
        "Acme Corp,sam@example.com,Closed Won,11/20/2026,Bob Smith,yes\n"
        "Globex Corporation,sam@example.com,Open - Not Contacted,,,\n"
    ).rows
    plan = run(database, newer)
    assert [(row.lead, row.action, row.changes) for row in plan.rows] == [
        # Won: they talked; and Bob is now the decision-maker.
        (
            "Acme Corp",
            Action.UPDATE,
            ("owner", "status", "last activity", "last contact", "updates Bob Smith"),
        ),
        ("Globex Corporation", Action.UNCHANGED, ()),
    ]
    acme = leads(database)["Acme Corp"]
    assert (acme.owner_id, acme.status, acme.next_follow_up) == (SAM, "won", None)
    assert acme.last_touch_at == datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert ("Acme Corp", "Bob Smith", "Ops Manager", True) in contacts(database)  # now the decision-maker


def test_an_older_last_activity_never_rolls_back_what_a_rep_logged(database: Database) -> None:
    run(database, salesforce())
    with database.sessions.begin() as session:
        log_from_text(session, caller(), "Acme Corp connected talked to Jane")
    run(database, salesforce(), now=NOW + timedelta(hours=1))
    acme = leads(database)["Acme Corp"]
    assert acme.last_touch_at == NOW  # the rep's call today, not the file's 2 November


def test_last_months_export_never_undoes_a_win_or_a_hand_off_logged_since(database: Database) -> None:
    run(database, salesforce())
    with database.sessions.begin() as session:
        log_from_text(session, caller(), "Acme Corp connected they signed")
    assert isinstance(run_lead(database, "won Acme Corp"), StatusChanged)
    stale = read_csv(
        "Company,Owner Email,Lead Status,Last Activity Date\nAcme Corp,sam@example.com,Working,11/02/2026\n"
    ).rows
    (row,) = run(database, stale, now=NOW + timedelta(days=7)).rows
    assert (row.action, row.changes, row.kept) == (Action.UNCHANGED, (), ("owner", "status"))
    acme = leads(database)["Acme Corp"]
    assert (acme.owner_id, acme.status) == (DANA, "won")
    # Without a last activity date the file can't be told stale; but Baton logged on Acme since,
    # so it keeps its own. A lead nobody has touched in Baton takes the undated row as it is.
    undated = read_csv(
        "Company,Owner Email\nAcme Corp,sam@example.com\nGlobex Corporation,dana@example.com\n"
    )
    acme_row, globex_row = run(database, undated.rows).rows
    assert (acme_row.action, acme_row.changes, acme_row.kept) == (Action.UNCHANGED, (), ("owner", "status"))
    assert (acme_row.owner, acme_row.status, acme_row.why_kept) == (DANA, Status.WON, "undated")
    assert (globex_row.action, globex_row.changes) == (Action.UPDATE, ("owner",))
    assert (leads(database)["Acme Corp"].owner_id, leads(database)["Globex Corporation"].owner_id) == (
        DANA,
        DANA,
    )


def test_attempts_from_the_crm_count_on_and_a_stale_file_never_lowers_them(database: Database) -> None:
    def attempts(count: int, last_activity: str = "") -> ImportPlan:
        file = f"Company,Lead Owner,Attempts,Last Activity\nAcme Corp,U0DANA,{count},{last_activity}\n"
        return run(database, read_csv(file).rows)

    attempts(2)
    with database.sessions.begin() as session:
        log_from_text(session, caller(), "Acme Corp voicemail")
    assert leads(database)["Acme Corp"].attempts == 3  # the CRM's 2 and Baton's 1
    assert attempts(2).rows[0].action is Action.UNCHANGED  # last week's file again: still 3
    assert attempts(5, "2026-11-20").rows[0].action is Action.UNCHANGED  # older than the voicemail
    assert attempts(5, "2026-11-23 18:00").rows[0].changes == ("attempts", "last activity")
    assert leads(database)["Acme Corp"].attempts == 5


def test_an_export_imports_back_unchanged_however_odd_the_names(database: Database) -> None:
    odd = read_csv(
        "Company,Lead Owner,Lead Status,Contact Name,Title,Decision Maker\n"
        '"=HYPERLINK(""http://evil.example"")",U0DANA,New,"O\'Brien, Pat","VP, ""Sales""",yes\n'
        "Café Zürich,U0SAM,Nurture,,,\n"
    ).rows
    run(database, [*salesforce(), *odd])
    with database.readers.begin() as session:
        text = "".join(write_csv(EXPORT_HEADERS, pipeline_rows(session, team_id=TEAM)))
    exported = read_csv(text)
    assert exported.problems == []
    assert len(exported.rows) == 8  # a row per contact: Acme Corp has two
    again = run(database, exported.rows, now=NOW + timedelta(days=1))
    assert again.ok
    assert {row.action for row in again.rows} == {Action.UNCHANGED}
    assert '=HYPERLINK("http://evil.example")' in leads(database)
    acme = next(row for row in exported.rows if row.lead == "Acme Corp")
    assert (acme.person, acme.decision_maker) == ("Jane Doe", True)  # the decision-maker speaks for the lead


def test_each_team_imports_into_its_own_pipeline(database: Database) -> None:
    run(database, salesforce())
    plan = run(database, salesforce(), team="T0OTHER")
    assert plan.count(Action.ADD) == 5
    assert len(leads(database, "T0OTHER")) == 5 and len(leads(database)) == 5


def test_the_touch_log_exports_every_touch_with_who_logged_it(database: Database) -> None:
    run(database, salesforce())
    with database.sessions.begin() as session:
        log_from_text(session, caller(), "Acme Corp voicemail left a message about Q3 pricing")
        log_from_text(session, caller(SAM, days=1), "Globex email sent the case study")
    with database.readers.begin() as session:
        lines = "".join(write_csv(TOUCH_HEADERS, touch_rows(session, team_id=TEAM))).splitlines()
    assert lines[0] == "Company,Date,Outcome,Logged By,Logged By Name,Note"
    assert lines[1].startswith("Acme Corp,2026-11-23T15:00:00+00:00,voicemail,U0DANA,")
    assert "Q3 pricing" in lines[1]
    assert lines[2].startswith("Globex Corporation,2026-11-24") and "email,U0SAM," in lines[2]


def test_ten_thousand_rows_import_once_and_the_second_run_finds_them_all(database: Database) -> None:
    header = "Company,First Name,Last Name,Lead Owner,Lead Status,Created Date,Last Activity Date\n"
    body = "".join(
        f"Company {n:05},Pat,No{n},{DANA if n % 2 else SAM},{'Working' if n % 3 else 'Nurture'},"
        f"2026-01-01,{date(2026, 11, 1) - timedelta(days=n % 90)}\n"
        for n in range(10_000)
    )
    rows = read_csv(header + body).rows
    seen: list[int] = []
    with database.sessions.begin() as session:
        plan = import_rows(
            session,
            team_id=TEAM,
            rows=rows,
            owners=OWNERS,
            user_id="import",
            now=NOW,
            rules=Rules(),
            write=True,
            progress=lambda done, total: seen.append(done * 100 // total),
        )
    assert plan.ok and plan.count(Action.ADD) == 10_000
    assert seen == sorted(seen) and seen[-1] == 100  # the bar only moves forward, to the end
    assert 75 in seen  # and moves while rows are written, not only while they are read
    with database.readers.begin() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 10_000
        assert session.scalar(select(func.count()).select_from(Contact)) == 10_000
    again = run(database, rows)
    assert again.count(Action.UNCHANGED) == 10_000
    assert leads(database)["Company 00003"].status == Status.BACKBURNER.value


# ---- what a CRM knows beyond names and owners (issue 12) --------------------------------------------


def test_contacts_added_to_leads_baton_already_has_make_them_updated_not_unchanged(
    database: Database,
) -> None:
    for name in ("Acme Corp", "Globex Corporation", "Initech"):
        run_lead(database, f"add {name}")
    file = read_csv(
        "Company,Lead Owner,First Name,Last Name,Email,Phone\n"
        "Acme Corp,U0DANA,Jane,Doe,jane@acme.example,+1 555 0100\n"
        "Globex Corporation,U0DANA,Hank,Scorpio,hank@globex.example,\n"
        "Initech,U0DANA,Bill,Lumbergh,,555-0102\n"
    )
    plan = run(database, file.rows)
    assert [(row.action, row.changes) for row in plan.rows] == [
        (Action.UPDATE, ("adds Jane Doe",)),
        (Action.UPDATE, ("adds Hank Scorpio",)),
        (Action.UPDATE, ("adds Bill Lumbergh",)),
    ]
    assert (plan.leads(Action.UPDATE), plan.leads(Action.UNCHANGED), plan.contacts("added")) == (3, 0, 3)
    with database.readers.begin() as session:
        found = session.execute(
            select(Contact.name, Contact.email, Contact.phone).order_by(Contact.name)
        ).all()
    assert [tuple(row) for row in found] == [
        ("Bill Lumbergh", None, "555-0102"),
        ("Hank Scorpio", "hank@globex.example", None),
        ("Jane Doe", "jane@acme.example", "+1 555 0100"),
    ]
    again = run(database, file.rows)
    assert (again.leads(Action.UNCHANGED), again.contacts("added")) == (3, 0)


def test_a_deal_in_conversation_is_reached_and_its_activities_are_not_unanswered_tries(
    database: Database,
) -> None:
    five_days_ago = (NOW - timedelta(days=5)).date()
    file = read_csv(
        "Deal Name,Deal owner,Deal Stage,Last Contacted,Number of Sales Activities,Create Date\n"
        f"Acme Corp,U0DANA,Contract Sent,{five_days_ago},11,2026-06-01\n"
        f"Stark Industries,U0DANA,Appointment Scheduled,{five_days_ago},3,2026-06-01\n"
    )
    plan = run(database, file.rows)
    assert [row.changes for row in plan.rows] == [("in conversation",), ()]
    acme, stark = leads(database)["Acme Corp"], leads(database)["Stark Industries"]
    assert (acme.reached, acme.ever_reached, acme.attempts) == (True, True, 0)
    assert acme.last_contact_at == datetime.combine(five_days_ago, time(12), tzinfo=UTC)
    # Checked on a week after the conversation, as after any call where someone answered.
    assert acme.next_follow_up == five_days_ago + timedelta(days=Rules().after_contact_days)
    assert (stark.reached, stark.attempts) == (False, 0)  # the first stage: no conversation yet
    # The rep's next voicemail is a try after that conversation, not the first of a cold lead.
    with database.sessions.begin() as session:
        log_from_text(session, caller(), "Acme Corp voicemail")
    acme = leads(database)["Acme Corp"]
    assert (acme.reached, acme.attempts) == (True, 1)
    assert acme.last_contact_at == datetime.combine(five_days_ago, time(12), tzinfo=UTC)


def test_an_imported_follow_up_never_falls_on_a_day_off(database: Database) -> None:
    with database.sessions.begin() as session:
        people.remember(session, team_id=TEAM, profile=Profile(SAM, "Sam Okafor", "UTC"), now=NOW)
        queries.people.set_own_workdays(session, team_id=TEAM, user_id=SAM, workdays="sun-thu")
    # Talked on Sunday 22 November: a week later is Sunday 29, Dana's day off (Monday 30 then),
    # and a working day for Sam, who works Sunday to Thursday.
    file = "Company,Lead Owner,Deal Stage,Last Contacted\n"
    file += "Acme Corp,U0DANA,Negotiation,2026-11-22\nGlobex,U0SAM,Negotiation,2026-11-22\n"
    run(database, read_csv(file).rows)
    assert leads(database)["Acme Corp"].next_follow_up == date(2026, 11, 30)
    assert leads(database)["Globex"].next_follow_up == date(2026, 11, 29)


def test_opt_out_and_do_not_call_columns_stop_the_follow_ups(database: Database) -> None:
    file = read_csv(
        "Company,Lead Owner,Lead Status,Do Not Call,Email Opt Out\n"
        "Acme Corp,U0DANA,Working - Contacted,1,0\n"
        "Globex Corporation,U0DANA,Open - Not Contacted,false,true\n"
        "Initech,U0DANA,Open - Not Contacted,,\n"
    )
    assert [row.changes for row in run(database, file.rows).rows] == [
        ("in conversation", "opted out"),
        ("opted out",),
        (),
    ]
    pipeline = leads(database)
    assert [(n, lead.opted_out_at, lead.next_follow_up) for n, lead in sorted(pipeline.items())] == [
        ("Acme Corp", NOW, None),
        ("Globex Corporation", NOW, None),
        ("Initech", None, NOW.date()),  # never tried: the first try is due now, as after /lead add
    ]
    # A later file without the flag never takes an opt-out back.
    run(database, read_csv("Company,Lead Owner,Do Not Call\nAcme Corp,U0DANA,no\n").rows)
    assert leads(database)["Acme Corp"].opted_out_at == NOW


def _second(moment: datetime | None) -> datetime | None:
    return moment.replace(microsecond=0) if moment else None


def _everything(db: Database, team: str) -> list[tuple[object, ...]]:
    """What a team's pipeline holds, in the terms an export must keep (to the second)."""
    with db.readers.begin() as session:
        found = []
        for lead in session.scalars(select(Lead).where(Lead.team_id == team).order_by(Lead.name_key)):
            people = session.execute(
                select(Contact.name, Contact.role, Contact.email, Contact.phone, Contact.is_decision_maker)
                .where(Contact.lead_id == lead.id)
                .order_by(Contact.name)
            ).all()
            found.append(
                (
                    lead.name,
                    lead.owner_id,
                    lead.status,
                    lead.lost_reason,
                    _second(lead.opted_out_at),
                    lead.reached,
                    _second(lead.last_contact_at),
                    _second(lead.last_touch_at),
                    lead.notes,
                    [tuple(person) for person in people],
                )
            )
    return found


def test_an_export_keeps_opt_outs_lost_reasons_every_contact_and_names_and_imports_back_whole(
    database: Database,
) -> None:
    run(database, salesforce())
    with database.sessions.begin() as session:
        people.remember(session, team_id=TEAM, profile=Profile(DANA, "Dana Reyes", "UTC"), now=NOW)
        people.remember(session, team_id=TEAM, profile=Profile(SAM, "Sam Okafor", "UTC"), now=NOW)
    run_lead(database, "optout globex")
    run_lead(database, "lost acme chose a competitor on price")
    run_lead(database, "contact acme Jane Doe, CFO jane@acme.example +1 555 0100 dm")
    later = caller(days=0.000_001_5)  # a touch logged at a time with microseconds
    assert later.now.microsecond
    with database.sessions.begin() as session:
        log_from_text(session, later, "Initech connected renewal talk")
    with database.readers.begin() as session:
        exported = "".join(write_csv(EXPORT_HEADERS, pipeline_rows(session, team_id=TEAM)))
        touches = "".join(write_csv(TOUCH_HEADERS, touch_rows(session, team_id=TEAM)))
    lines = exported.splitlines()
    assert len(lines) == 1 + 6  # a row per contact: both of Acme's
    acme = [line for line in lines if line.startswith("Acme Corp,")]
    assert [line.split(",")[:6] for line in acme] == [
        ["Acme Corp", "U0DANA", "Dana Reyes", "lost", "chose a competitor on price", ""]
    ] * 2
    globex = next(line for line in lines if line.startswith("Globex"))
    assert globex.split(",")[3:6] == ["open", "", NOW.isoformat()]  # opted out, with when
    assert "jane@acme.example,'+1 555 0100" in exported  # a leading + would run as a formula
    assert ".000001" not in exported + touches and "T15:00:00+00:00" in touches
    assert touches.splitlines()[1].startswith(
        "Initech,2026-11-23T15:00:00+00:00,connected,U0DANA,Dana Reyes,"
    )

    # Into another team, the export builds the same pipeline; into this one, it changes nothing.
    moved = run(database, read_csv(exported).rows, team="T0OTHER")
    assert moved.ok and moved.leads(Action.ADD) == 5 and moved.contacts("added") == 6
    assert _everything(database, "T0OTHER") == _everything(database, TEAM)
    again = run(database, read_csv(exported).rows, now=NOW + timedelta(days=1))
    assert {row.action for row in again.rows} == {Action.UNCHANGED}


def test_an_undated_file_in_conversation_imported_again_later_changes_nothing(database: Database) -> None:
    rows = read_csv((DATA / "sample_leads.csv").read_text()).rows
    owners = {row.owner: DANA for row in rows}
    first = run(database, rows, owners=owners)
    assert first.leads(Action.ADD) == 6
    talked = leads(database)["Bluefin Logistics"].last_contact_at
    assert talked == NOW  # "Qualification" without a date: in conversation as of the import
    again = run(database, rows, owners=owners, now=NOW + timedelta(days=3))
    assert {row.action for row in again.rows} == {Action.UNCHANGED}
    assert leads(database)["Bluefin Logistics"].last_contact_at == talked
    with database.readers.begin() as session:
        exported = read_csv("".join(write_csv(EXPORT_HEADERS, pipeline_rows(session, team_id=TEAM)))).rows
    assert {row.action for row in run(database, exported, now=NOW + timedelta(days=4)).rows} == {
        Action.UNCHANGED
    }


def test_a_stale_file_fills_in_a_contacts_missing_details_but_never_replaces_the_reps(
    database: Database,
) -> None:
    run(database, salesforce())  # Jane Doe at Acme: 555-0100; Bill Lumbergh at Initech: no phone
    run_lead(database, "contact acme Jane Doe +1 555 0199")  # the rep's newer number
    with database.sessions.begin() as session:
        log_from_text(session, caller(), "Acme Corp connected")
    stale = read_csv(
        "Company,Lead Owner,Lead Status,First Name,Last Name,Phone,Last Activity Date\n"
        "Acme Corp,U0DANA,Working,Jane,Doe,555-0100,11/01/2026\n"
        "Initech,U0DANA,Closed Won,Bill,Lumbergh,555-0103,08/01/2026\n"
    )
    plan = run(database, stale.rows)
    assert [(row.action, row.changes) for row in plan.rows] == [
        (Action.UNCHANGED, ()),
        (Action.UPDATE, ("updates Bill Lumbergh",)),
    ]
    with database.readers.begin() as session:
        phones = {name: phone for name, phone in session.execute(select(Contact.name, Contact.phone))}
    assert (phones["Jane Doe"], phones["Bill Lumbergh"]) == ("+1 555 0199", "555-0103")
