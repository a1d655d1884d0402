"""Lead and touch use cases on a real database: uniqueness, races, teams kept apart, progress kept true."""

import threading
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from coaching.caller import Caller
from coaching.finding import WhichLead
from coaching.lead_commands import lead_command
from coaching.leads import BadName, LeadAdded, LeadDetail, LeadExists, NotAllowed, StatusChanged, add_lead
from coaching.people import Profile, known_profile, remember
from coaching.rules import Status
from coaching.settings import TeamConfig
from coaching.touches import TouchLogged, log_from_text
from store.db import Database
from tests.conftest import DANA, MORGAN, NOW, SAM, TEAM

NY = ZoneInfo("America/New_York")


def caller(user: str = DANA, *, days: float = 0, team: str = TEAM, manager: bool = False) -> Caller:
    return Caller(team, user, manager, NOW + timedelta(days=days), NY, TeamConfig())


def run(db: Database, text: str, who: Caller | None = None) -> object:
    with db.sessions.begin() as session:
        return lead_command(session, who or caller(), text)


def log(db: Database, text: str, who: Caller | None = None) -> object:
    with db.sessions.begin() as session:
        return log_from_text(session, who or caller(), text)


def test_lead_names_are_unique_per_team_whatever_their_case(database: Database) -> None:
    assert isinstance(run(database, "add Acme Corp"), LeadAdded)
    again = run(database, "add  acme   CORP ")
    assert isinstance(again, LeadExists)
    assert again.lead.name == "Acme Corp"
    assert isinstance(run(database, "add Acme Corp", caller(team="T0OTHER")), LeadAdded)


def test_two_reps_adding_the_same_lead_at_once_get_one_lead(database: Database) -> None:
    results: list[object] = []
    barrier = threading.Barrier(6)

    def add(user: str) -> None:
        barrier.wait()
        with database.sessions.begin() as session:
            results.append(add_lead(session, team_id=TEAM, user_id=user, name="Initech", now=NOW, tz=NY))

    threads = [threading.Thread(target=add, args=(f"U0REP{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, LeadAdded) for r in results) == 1
    assert sum(isinstance(r, LeadExists) for r in results) == 5


def test_an_overlong_or_empty_name_is_refused_with_a_reason(database: Database) -> None:
    assert "150" in run(database, "add " + "x" * 151).reason  # type: ignore[attr-defined]
    assert isinstance(run(database, "add"), BadName)


def test_another_teams_leads_are_never_found(database: Database) -> None:
    run(database, "add Globex", caller(team="T0OTHER"))
    result = log(database, "globex vm")
    assert isinstance(result, WhichLead)
    assert result.unknown and result.options == ()


def test_logging_updates_the_leads_progress(database: Database) -> None:
    run(database, "add Acme Corp")
    for day, outcome in enumerate(["vm", "no-answer", "email"]):
        result = log(database, f"acme corp {outcome}", caller(days=day * 4))
    assert isinstance(result, TouchLogged)
    assert result.lead.attempts == 3
    assert result.lead.next_follow_up == date(2026, 12, 7)  # Tuesday 1 Dec + 4 is a Saturday: Monday
    connected = log(database, "acme corp connected spoke to the CFO", caller(days=9))
    assert isinstance(connected, TouchLogged)
    assert connected.lead.reached and connected.lead.attempts == 0


def test_only_the_owner_or_a_manager_may_close_a_lead(database: Database) -> None:
    run(database, "add Acme Corp")
    refused = run(database, "won acme", caller(SAM))
    assert isinstance(refused, NotAllowed)
    assert isinstance(run(database, "won acme", caller(MORGAN, manager=True)), StatusChanged)
    detail = run(database, "show acme")
    assert isinstance(detail, LeadDetail) and detail.lead.status is Status.WON


def test_reopening_starts_a_fresh_round_of_attempts_due_today(database: Database) -> None:
    run(database, "add Acme Corp")
    for day in range(3):
        log(database, "acme vm", caller(days=day * 4))
    run(database, "backburner acme", caller(days=13))
    reopened = run(database, "reopen acme", caller(days=60))
    assert isinstance(reopened, StatusChanged)
    assert reopened.lead.attempts == 0
    assert reopened.lead.next_follow_up == (NOW + timedelta(days=60)).astimezone(NY).date()


def test_a_lost_lead_keeps_its_reason(database: Database) -> None:
    run(database, "add Acme Corp")
    lost = run(database, "lost acme went with a competitor; revisit in Q3")
    assert isinstance(lost, StatusChanged)
    assert lost.lead.lost_reason == "went with a competitor; revisit in Q3"


def test_a_rep_profile_is_remembered_and_refreshed(database: Database) -> None:
    with database.sessions.begin() as session:
        remember(session, team_id=TEAM, profile=Profile(DANA, "Dana", "America/New_York"), now=NOW)
        remember(session, team_id=TEAM, profile=Profile(DANA, "Dana R", "Europe/Paris"), now=NOW)
    with database.readers.begin() as session:
        known = known_profile(session, team_id=TEAM, user_id=DANA, now=NOW + timedelta(hours=1))
        stale = known_profile(session, team_id=TEAM, user_id=DANA, now=NOW + timedelta(days=2))
    assert known is not None and known.tz == "Europe/Paris" and known.name == "Dana R"
    assert stale is None


def test_sql_looking_text_is_stored_as_text(database: Database) -> None:
    name = "Robert'); DROP TABLE lead;--"
    assert isinstance(run(database, f"add {name}"), LeadAdded)
    note = "'; DELETE FROM touch WHERE '1'='1"
    logged = log(database, f'"{name}" email {note}')
    assert isinstance(logged, TouchLogged) and logged.note == note
    detail = run(database, f'show "{name}"')
    assert isinstance(detail, LeadDetail) and detail.history[0].note == note


def test_a_lead_is_found_among_thousands_that_share_its_first_word(database: Database) -> None:
    with database.sessions.begin() as session:
        for index in range(1200):
            add_lead(session, team_id=TEAM, user_id=DANA, name=f"Acme {index:04d} Holdings", now=NOW, tz=NY)
    logged = log(database, "acme 1187 vm")
    assert isinstance(logged, TouchLogged) and logged.lead.name == "Acme 1187 Holdings"
    typo = log(database, "acme 1187 holdngs email")
    assert isinstance(typo, TouchLogged) and typo.lead.name == "Acme 1187 Holdings"


def test_the_nudge_query_returns_a_snapshots_fields_in_order() -> None:
    from dataclasses import fields

    from coaching.snapshots import LeadSnapshot
    from store.queries.digests import NUDGE_COLUMNS

    assert [column.key for column in NUDGE_COLUMNS] == ["team_id", *(f.name for f in fields(LeadSnapshot))]


def test_the_brief_nudge_query_returns_the_team_the_owner_and_a_nudge_leads_fields_in_order() -> None:
    from coaching.snapshots import NudgeLead
    from store.queries.digests import BRIEF_COLUMNS

    assert [column.key for column in BRIEF_COLUMNS] == ["team_id", "owner_id", *NudgeLead._fields]


def test_a_percent_sign_or_underscore_typed_matches_only_itself(database: Database) -> None:
    for name in ("Big 50% Deals", "Big 50x Deals", "Acme_Corp", "AcmeXCorp"):
        assert isinstance(run(database, f"add {name}"), LeadAdded)
    logged = log(database, "50% vm")
    assert isinstance(logged, TouchLogged) and logged.lead.name == "Big 50% Deals"
    logged = log(database, "acme_corp vm")
    assert isinstance(logged, TouchLogged) and logged.lead.name == "Acme_Corp"
