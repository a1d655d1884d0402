"""The HubSpot sync against the local HubSpot (bot/localhubspot) and the real app, over real HTTP.

HubSpot's records come in as leads, prospects and history; touches, closes and transfers go out as
engagements, stages and owners, once, through dropped answers and 429s. Time is the harness clock:
the stand-in's record times, its rate-limit window and its search lag all follow it, and every wait
the sync makes moves it instead of sleeping.
"""

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.__main__ import main
from bot.crm_sync import CrmSyncer, Report
from bot.hubspot import HubSpotCrm
from bot.hubspot_client import Pacer
from bot.localhubspot import HubSpot, LocalHubSpot
from bot.slack import make_client
from coaching.crm_mapping import CONNECTED, LEFT_VOICEMAIL, NO_ANSWER
from store.db import open_database
from store.models import Contact, CrmPush, Lead
from tests.conftest import DANA, MORGAN, NOW, SAM, TEAM, TOKEN, Harness

ACME, GLOBEX = "Acme Corp", "Globex"


@dataclass
class Crm:
    hubspot: HubSpot
    local: LocalHubSpot
    syncer: CrmSyncer
    h: Harness
    owners: dict[str, str]
    ids: dict[str, str]

    def sync(self, **kw: Any) -> Report:
        return self.syncer.sync(TEAM, **kw)

    def app_sends(self) -> None:
        """What the running app does every 15 seconds: resume requests, send the outbox, push to the CRM."""
        dataclasses.replace(self.h.baton, crm=self.syncer).recover()
        self.syncer.wait_for_push()

    def lead(self, name: str) -> Lead:
        with self.h.db.sessions.begin() as session:
            lead = session.scalars(select(Lead).where(Lead.team_id == TEAM, Lead.name == name)).one()
            session.expunge(lead)
            return lead

    def engagements(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.hubspot.objects(kind) if not e["archived"]]


def readme_scopes() -> set[str]:
    """The scopes in the README's table for the HubSpot private app."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("**Scopes the private app needs.**", 1)[1].split("\n\n", 2)[1]
    return {
        scope for row in table.splitlines()[2:] for scope in re.findall(r"`([a-z.-]+)`", row.split("|")[1])
    }


def ms(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp() * 1000)


def syncer_for(h: Harness, hubspot: HubSpot, url: str) -> CrmSyncer:
    pacer = Pacer(clock=lambda: h.clock.now.timestamp(), sleep=lambda s: h.clock.advance(seconds=s))
    port = HubSpotCrm(hubspot.token, api_url=url, pacer=pacer)
    return CrmSyncer(h.baton.deps, port, slack=make_client(TOKEN, h.api.url))


@pytest.fixture
def crm(harness: Harness) -> Iterator[Crm]:
    h = harness
    hubspot = HubSpot(
        clock=lambda: h.clock.now.timestamp(), now_ms=lambda: int(h.clock.now.timestamp() * 1000)
    )
    owners = {
        DANA: hubspot.add_owner("dana@example.com", "Dana", "Reyes"),
        SAM: hubspot.add_owner("sam@example.com", "Sam", "Okafor"),
        "ghost": hubspot.add_owner("ghost@elsewhere.com", "Gus", "Ghost"),
    }
    acme = hubspot.add_company(ACME)
    jane = hubspot.add_contact(
        "Jane", "Doe", "jane@acme.com", company=acme, jobtitle="CFO", phone="+1 555 0100"
    )
    deal = hubspot.add_deal(
        "Acme - Q3 expansion", stage="contractsent", owner=owners[DANA], company=acme, contacts=[jane]
    )
    # History: reached on a call 20 days ago, then two tries nobody answered.
    for days, disposition in ((20, CONNECTED), (10, NO_ANSWER), (6, LEFT_VOICEMAIL)):
        hubspot.add_engagement("calls", timestamp_ms=ms(days), deal=deal, hs_call_disposition=disposition)
    globex = hubspot.add_company(GLOBEX)
    won = hubspot.add_deal("Globex renewal", stage="closedwon", owner=owners[SAM], company=globex)
    ghost = hubspot.add_deal("Initech pilot", stage="qualifiedtobuy", owner=owners["ghost"])
    hooli = hubspot.add_company("Hooli")
    pat = hubspot.add_contact(
        "Pat", "Prospect", "pat@hooli.com", company=hooli, hs_lead_status="NEW", hubspot_owner_id=owners[SAM]
    )
    hubspot.add_contact("Nobody", "Special", "n@x.com")  # no lead status, no deal: not Baton's
    # The private app has exactly the scopes the README asks a team to give it, no more.
    hubspot.scopes = readme_scopes()
    local = LocalHubSpot(hubspot).start()
    yield Crm(
        hubspot,
        local,
        syncer_for(h, hubspot, local.url),
        h,
        owners,
        {"acme": acme, "jane": jane, "deal": deal, "won": won, "ghost": ghost, "pat": pat},
    )
    local.stop()


def test_the_first_pull_brings_deals_contacts_prospects_and_history_into_the_pipeline(crm: Crm) -> None:
    report = crm.sync()
    text = "\n".join(report.lines())
    acme = crm.lead(ACME)
    assert (acme.owner_id, acme.status, acme.attempts, acme.reached) == (DANA, "open", 2, True)
    assert acme.last_touch_at == NOW - timedelta(days=6)
    assert crm.lead(GLOBEX).status == "won"  # closed won by the stage's metadata
    prospect = crm.lead("Hooli")
    assert (prospect.owner_id, prospect.status, prospect.reached) == (SAM, "open", False)
    assert "ghost@elsewhere.com" in text and "its owner is nobody in Slack" in text
    with crm.h.db.sessions.begin() as session:
        names = set(session.scalars(select(Lead.name).where(Lead.team_id == TEAM)))
        jane = session.scalars(select(Contact).where(Contact.name == "Jane Doe")).one()
        assert (jane.role, jane.email, jane.phone) == ("CFO", "jane@acme.com", "+1 555 0100")
    assert names == {ACME, GLOBEX, "Hooli"}
    shown = crm.h.seen_text(crm.h.command(DANA, "/lead", "show acme"))
    assert "Jane Doe" in shown and "CFO" in shown
    # Running it again changes nothing.
    again = crm.sync()
    assert (again.counts.leads_added, again.counts.prospects_added, again.counts.contacts_added) == (0, 0, 0)


def test_a_touch_becomes_one_call_on_the_deal_its_contact_and_company_owned_by_the_rep(crm: Crm) -> None:
    crm.sync()
    crm.h.command(DANA, "/logcall", "acme voicemail left a message about Q3 pricing")
    crm.app_sends()
    ours = [c for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")]
    assert len(ours) == 1
    call = ours[0]
    props = call["properties"]
    assert props["hs_call_disposition"] == LEFT_VOICEMAIL
    assert props["hs_call_body"] == "left a message about Q3 pricing"
    assert props["hubspot_owner_id"] == crm.owners[DANA]
    assert datetime.fromisoformat(props["hs_timestamp"].replace("Z", "+00:00")) == NOW  # timed at the touch
    linked = call["associations"]
    assert (
        crm.ids["deal"] in str(linked) and crm.ids["jane"] in str(linked) and crm.ids["acme"] in str(linked)
    )
    crm.app_sends()  # nothing owed any more: nothing sent twice
    assert len([c for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")]) == 1


def test_a_lost_answer_never_makes_a_second_engagement(crm: Crm) -> None:
    crm.sync()
    crm.hubspot.faults().drop_after_write(1)
    crm.h.command(DANA, "/logcall", "acme email sent the case study")
    crm.app_sends()
    with crm.h.db.sessions.begin() as session:
        assert [p.status for p in session.scalars(select(CrmPush))] == ["unknown"]
    crm.h.clock.advance(seconds=10)
    crm.app_sends()
    emails = crm.engagements("emails")
    assert len(emails) == 1 and emails[0]["properties"]["hs_email_text"] == "sent the case study"
    with crm.h.db.sessions.begin() as session:
        assert [(p.status, p.crm_id) for p in session.scalars(select(CrmPush))] == [("sent", emails[0]["id"])]


def test_a_sender_killed_mid_push_is_finished_by_the_next_without_a_duplicate(crm: Crm) -> None:
    crm.sync()
    crm.h.command(DANA, "/logcall", "acme connected talked to Jane")
    with crm.h.db.sessions.begin() as session:
        push = session.scalars(select(CrmPush)).one()
        # As if a process took it, created the call and died before recording it.
        push.status, push.owner, push.lease_until, push.attempts = (
            "sending",
            "dead",
            NOW + timedelta(minutes=2),
            1,
        )
    crm.syncer.port.create_engagements(  # type: ignore[attr-defined]
        crm_push_take_for_test(crm), push_ids={push.touch_id or 0: push.id}
    )
    crm.h.clock.advance(minutes=3)  # the dead sender's lease runs out
    crm.app_sends()
    assert len([c for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")]) == 1
    with crm.h.db.sessions.begin() as session:
        assert session.scalars(select(CrmPush.status)).one() == "sent"


def crm_push_take_for_test(crm: Crm) -> list[Any]:
    """The engagement the dead process had created: the same one a live sender would build."""
    from coaching import crm_push

    with crm.h.db.sessions.begin() as session:
        taken = crm_push.take(
            session,
            team_id=TEAM,
            crm="hubspot",
            owner="dead-twin",
            now=NOW + timedelta(minutes=5),  # past the lease: the row is taken, then left as it was
            stages=crm.syncer.stages(),
        )
        session.rollback()
    return list(taken.look_first)


def test_won_in_slack_moves_the_deal_and_a_transfer_sets_its_owner(crm: Crm) -> None:
    crm.sync()
    crm.h.command(MORGAN, "/handoff", "acme @sam they know the CFO")  # a manager's own hand-off: at once
    crm.h.command(SAM, "/lead", "won acme")
    crm.app_sends()
    deal = next(d for d in crm.hubspot.objects("deals") if d["id"] == crm.ids["deal"])
    assert deal["properties"]["dealstage"] == "closedwon"
    assert deal["properties"]["hubspot_owner_id"] == crm.owners[SAM]
    crm.h.clock.advance(minutes=5)
    report = crm.sync()  # our own changes coming back are not HubSpot's changes
    assert crm.lead(ACME).status == "won" and crm.lead(ACME).owner_id == SAM
    assert report.moved == []


def test_a_deal_moved_to_another_rep_in_hubspot_tells_both_as_a_hand_off_does(crm: Crm) -> None:
    crm.sync()
    crm.h.clock.advance(minutes=5)
    crm.hubspot.update("deals", crm.ids["deal"], hubspot_owner_id=crm.owners[SAM])
    crm.h.clock.advance(minutes=1)
    crm.sync()
    assert crm.lead(ACME).owner_id == SAM
    crm.app_sends()
    assert "You now own *Acme Corp*" in crm.h.seen_text(crm.h.dms(SAM)[-1])
    assert "is now <@U0SAM>'s lead" in crm.h.seen_text(crm.h.dms(DANA)[-1])


def test_a_change_baton_has_not_sent_yet_wins_over_hubspots(crm: Crm) -> None:
    crm.sync()
    crm.h.clock.advance(minutes=5)
    crm.h.command(DANA, "/lead", "won acme")  # owed to HubSpot, not yet sent
    crm.hubspot.update("deals", crm.ids["deal"], dealstage="closedlost")
    crm.h.clock.advance(minutes=1)
    with crm.h.db.sessions.begin() as session:  # as if HubSpot were unreachable when the app tried
        for push in session.scalars(select(CrmPush)):
            push.next_attempt_at = NOW + timedelta(days=1)
    report = crm.syncer.sync(TEAM)
    assert report.counts.kept_by_baton == 1
    assert crm.lead(ACME).status == "won"


def test_a_deal_closed_or_deleted_in_hubspot_leaves_the_pipeline(crm: Crm) -> None:
    crm.sync()
    crm.h.clock.advance(minutes=5)
    crm.hubspot.update("deals", crm.ids["deal"], dealstage="closedlost")
    crm.hubspot.archive("contacts", crm.ids["pat"])
    crm.h.clock.advance(minutes=1)
    crm.sync()
    acme, hooli = crm.lead(ACME), crm.lead("Hooli")
    assert (acme.status, acme.next_follow_up) == ("lost", None)
    assert (hooli.status, hooli.lost_reason) == ("lost", "Deleted in the CRM")


def test_a_change_search_cant_see_yet_is_caught_by_the_next_sync(harness: Harness) -> None:
    h = harness
    hubspot = HubSpot(
        clock=lambda: h.clock.now.timestamp(),
        now_ms=lambda: int(h.clock.now.timestamp() * 1000),
        search_lag_s=90,
    )
    owner = hubspot.add_owner("dana@example.com")
    deal = hubspot.add_deal("Umbrella", stage="appointmentscheduled", owner=owner)
    with LocalHubSpot(hubspot) as local:
        syncer = syncer_for(h, hubspot, local.url)
        syncer.sync(TEAM)
        h.clock.advance(minutes=5)
        hubspot.update("deals", deal, dealstage="closedwon")
        h.clock.advance(seconds=5)
        syncer.sync(TEAM)  # search hasn't caught up: not seen yet
        h.clock.advance(minutes=5)
        syncer.sync(TEAM)  # the overlapping cursor reads it now
    with h.db.sessions.begin() as session:
        assert session.scalars(select(Lead.status).where(Lead.name == "Umbrella")).one() == "won"


def test_a_429_storm_is_waited_out_and_nothing_is_dropped(crm: Crm) -> None:
    crm.hubspot.faults().rate_limit_storm(5, retry_after_s=2)
    report = crm.sync()
    assert report.waited_s >= 10
    assert {crm.lead(ACME).status, crm.lead(GLOBEX).status} == {"open", "won"}


def test_the_command_line_says_in_one_line_why_hubspot_refused(
    crm: Crm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("HUBSPOT_API_URL", crm.local.url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.setenv("HUBSPOT_TOKEN", "pat-wrong")
    assert main(["--env-file", str(tmp_path / "none"), "crm", "sync", "--team", TEAM]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "token" in error
    monkeypatch.setenv("HUBSPOT_TOKEN", crm.hubspot.token)
    crm.hubspot.scopes.discard("crm.objects.deals.read")
    assert main(["--env-file", str(tmp_path / "none"), "crm", "sync", "--team", TEAM]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "scope" in error
    crm.hubspot.scopes.add("crm.objects.deals.read")
    assert main(["--env-file", str(tmp_path / "none"), "crm", "sync", "--team", TEAM, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run" in out and "leads added" in out


def test_a_second_process_leaves_a_pull_under_way_to_the_first(crm: Crm) -> None:
    from store import crm_sync as rows

    crm.sync()
    with crm.h.db.sessions.begin() as session:  # another process is pulling for the team right now
        assert rows.claim_run(
            session, team_id=TEAM, crm="hubspot", owner="other", now=NOW, until=NOW + timedelta(minutes=10)
        )
    second = syncer_for(crm.h, crm.hubspot, crm.local.url).sync(TEAM)
    assert not second.ran and "Another process" in second.lines()[0]
    crm.h.clock.advance(minutes=11)  # that process died: its claim runs out and the pull goes ahead
    assert syncer_for(crm.h, crm.hubspot, crm.local.url).sync(TEAM).ran


def test_a_person_erased_on_request_does_not_come_back_from_hubspot(crm: Crm) -> None:
    from coaching.privacy import erase

    crm.sync()
    with crm.h.db.sessions.begin() as session:
        erase(session, now=NOW, team_id=TEAM, email="jane@acme.com", contact_id=None, lead_name=None)
    report = crm.sync(full=True)
    with crm.h.db.sessions.begin() as session:
        assert session.scalars(select(Contact).where(Contact.email == "jane@acme.com")).all() == []
    assert report.counts.skipped["a person erased on request"] >= 1


def test_a_process_started_while_hubspot_is_down_keeps_what_is_owed_and_sends_it_once_back_up(
    crm: Crm,
) -> None:
    crm.sync()
    crm.h.command(DANA, "/logcall", "acme email sent the pricing sheet")
    crm.hubspot.faults().down(until_clock=crm.h.clock.now.timestamp() + 600)
    fresh = syncer_for(crm.h, crm.hubspot, crm.local.url)  # a new process: it has never read the stages
    report = fresh.push(TEAM)
    assert report.errors and report.pushed == 0  # said, not raised: the loop that called it carries on
    assert crm.engagements("emails") == []
    crm.h.clock.advance(minutes=11)
    assert fresh.push(TEAM).pushed == 1
    emails = crm.engagements("emails")
    assert [e["properties"]["hs_email_text"] for e in emails] == ["sent the pricing sheet"]


def deals_named(crm: Crm, name: str) -> list[dict[str, Any]]:
    return [d for d in crm.hubspot.objects("deals") if d["properties"].get("dealname") == name]


def test_a_lead_added_in_slack_becomes_one_open_deal_owned_by_the_rep_and_its_touches_go_on_it(
    crm: Crm,
) -> None:
    crm.sync()
    crm.h.command(DANA, "/lead", "add Initrode")
    crm.h.command(DANA, "/logcall", "initrode vm asked for the facilities manager")
    crm.app_sends()
    [deal] = deals_named(crm, "Initrode")
    props = deal["properties"]
    assert (props["pipeline"], props["dealstage"]) == (
        "default",
        "appointmentscheduled",
    )  # its first open stage
    assert props["hubspot_owner_id"] == crm.owners[DANA]
    calls = [c for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")]
    assert len(calls) == 1 and deal["id"] in str(calls[0]["associations"])
    assert calls[0]["properties"]["hs_call_body"] == "asked for the facilities manager"
    # Later syncs see the deal Baton made as the lead it is: no second lead, no second deal.
    crm.h.clock.advance(minutes=5)
    report = crm.sync()
    crm.app_sends()
    assert len(deals_named(crm, "Initrode")) == 1 and report.counts.leads_added == 0
    crm.h.command(DANA, "/lead", "won initrode")
    crm.app_sends()
    assert deals_named(crm, "Initrode")[0]["properties"]["dealstage"] == "closedwon"
    with crm.h.db.sessions.begin() as session:
        assert {p.status for p in session.scalars(select(CrmPush))} == {"sent"}


def test_a_deal_whose_answer_was_lost_is_found_again_not_made_twice(crm: Crm) -> None:
    crm.sync()
    crm.hubspot.faults().drop_after_write(1)
    crm.h.command(SAM, "/lead", "add Soylent")
    crm.h.command(SAM, "/logcall", "soylent email sent the deck")
    crm.app_sends()
    with crm.h.db.sessions.begin() as session:
        assert {p.kind: p.status for p in session.scalars(select(CrmPush))} == {
            "deal": "unknown",
            "touch": "pending",
        }
    crm.h.clock.advance(seconds=15)
    crm.app_sends()
    [deal] = deals_named(crm, "Soylent")
    emails = [e for e in crm.engagements("emails") if e["properties"].get("baton_touch_id")]
    assert len(emails) == 1 and deal["id"] in str(emails[0]["associations"])
    with crm.h.db.sessions.begin() as session:
        assert {p.kind: (p.status, p.crm_id) for p in session.scalars(select(CrmPush))}["deal"] == (
            "sent",
            deal["id"],
        )


def test_a_lead_from_before_the_crm_was_connected_becomes_a_deal_when_it_is_worked(crm: Crm) -> None:
    crm.h.command(DANA, "/lead", "add Umbrella Corp")  # no CRM yet: nothing owed
    crm.sync()  # HubSpot has no deal of that name: the lead stays Baton's alone
    assert deals_named(crm, "Umbrella Corp") == []
    crm.h.command(DANA, "/logcall", "umbrella connected spoke to Albert")
    crm.app_sends()
    [deal] = deals_named(crm, "Umbrella Corp")
    calls = [c for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")]
    assert len(calls) == 1 and deal["id"] in str(calls[0]["associations"])


def test_a_prospects_touch_goes_on_its_contact_and_company_not_on_a_new_deal(crm: Crm) -> None:
    crm.sync()
    crm.h.command(SAM, "/logcall", "hooli no answer")
    crm.app_sends()
    calls = [c for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")]
    assert len(calls) == 1
    linked = calls[0]["associations"]
    assert crm.ids["pat"] in str(linked.get("contacts")) and "deals" not in linked
    assert deals_named(crm, "Hooli") == []


def touches_of(crm: Crm, name: str) -> list[tuple[str, str, str]]:
    with crm.h.db.sessions.begin() as session:
        lead = session.scalars(select(Lead).where(Lead.team_id == TEAM, Lead.name == name)).one()
        return [(t.user_id, t.outcome, t.note) for t in sorted(lead.touches, key=lambda t: t.at)]


def test_calls_and_emails_logged_in_hubspot_after_the_first_sync_coach_the_rep_as_slack_touches_do(
    crm: Crm,
) -> None:
    crm.sync()
    before = crm.lead(ACME)
    assert (before.attempts, before.reached) == (2, True)  # from the first pull's history
    crm.h.clock.advance(days=1)
    # Dana dials from HubSpot and gets through; Sam's prospect Pat replies to an e-mail.
    crm.hubspot.add_engagement(
        "calls",
        timestamp_ms=int(crm.h.clock.now.timestamp() * 1000),
        owner=crm.owners[DANA],
        deal=crm.ids["deal"],
        hs_call_disposition=CONNECTED,
    )
    crm.hubspot.add_engagement(
        "emails",
        timestamp_ms=int(crm.h.clock.now.timestamp() * 1000),
        owner=crm.owners[SAM],
        contact=crm.ids["pat"],
        hs_email_direction="INCOMING_EMAIL",
    )
    crm.h.command(DANA, "/logcall", "acme email sent the contract")  # Baton's own: pushed, not read back
    crm.app_sends()
    crm.h.clock.advance(minutes=5)
    report = crm.sync()
    assert report.counts.activity == 2
    assert touches_of(crm, ACME) == [
        (DANA, "email", "sent the contract"),
        (DANA, "connected", "Logged in HubSpot"),
    ]
    acme = crm.lead(ACME)
    assert (acme.attempts, acme.reached, acme.last_contact_at) == (
        0,
        True,
        crm.h.clock.now - timedelta(minutes=5),
    )
    hooli = crm.lead("Hooli")
    assert touches_of(crm, "Hooli") == [(SAM, "replied", "Logged in HubSpot")] and hooli.reached
    shown = crm.h.seen_text(crm.h.command(DANA, "/lead", "show acme"))
    assert "Logged in HubSpot" in shown
    # Read again by the next sync's overlapping window, or by a full one: still one touch each.
    crm.h.clock.advance(minutes=5)
    assert crm.sync().counts.activity == 0
    assert crm.sync(full=True).counts.activity == 0
    assert len(touches_of(crm, ACME)) == 2


def contacts_named(crm: Crm, first: str) -> list[dict[str, Any]]:
    return [c for c in crm.engagements("contacts") if c["properties"].get("firstname") == first]


def test_a_contact_added_in_slack_is_on_the_deal_in_hubspot_once_whatever_is_lost(crm: Crm) -> None:
    crm.sync()
    crm.hubspot.faults().drop_after_write(1)  # the first upsert lands, its answer never comes back
    crm.h.command(DANA, "/lead", "contact acme Bob Builder, CTO bob@acme.com +1 555 0199 dm")
    crm.h.command(DANA, "/lead", "contact acme Wendy Works, Office manager")  # no e-mail
    crm.app_sends()
    crm.h.clock.advance(minutes=1)
    crm.app_sends()
    [bob] = contacts_named(crm, "Bob")
    wanted = {"lastname": "Builder", "jobtitle": "CTO", "email": "bob@acme.com", "phone": "+1 555 0199"}
    assert {k: bob["properties"].get(k) for k in wanted} == wanted
    assert crm.ids["deal"] in str(bob["associations"].get("deals"))
    [wendy] = contacts_named(crm, "Wendy")
    assert crm.ids["deal"] in str(wendy["associations"].get("deals"))
    # Someone HubSpot already has (by e-mail) is updated, not made twice; the next pull adds no one.
    crm.h.command(DANA, "/lead", "contact acme Jane Doe, Chief Financial Officer jane@acme.com")
    crm.app_sends()
    assert [c["properties"]["jobtitle"] for c in contacts_named(crm, "Jane")] == ["Chief Financial Officer"]
    crm.h.clock.advance(minutes=5)
    assert crm.sync(full=True).counts.contacts_added == 0
    with crm.h.db.sessions.begin() as session:
        assert {p.status for p in session.scalars(select(CrmPush))} == {"sent"}
        assert len(session.scalars(select(Contact).where(Contact.name == "Bob Builder")).all()) == 1


def test_each_team_syncs_with_its_own_sealed_token_and_a_refused_one_holds_up_no_other(crm: Crm) -> None:
    from bot.crm_teams import CrmSyncers
    from bot.hubspot_client import HubSpotRefused
    from bot.secrets import Keyring, new_key
    from coaching.leads import create_lead
    from store import crm_sync as rows
    from store.models import CrmConnection

    keys = Keyring([new_key()])
    other = "T0OTHER"
    with crm.h.db.sessions.begin() as session:
        rows.connect(session, team_id=TEAM, crm="hubspot", token=keys.seal(crm.hubspot.token), now=NOW)
        rows.connect(session, team_id=other, crm="hubspot", token=keys.seal("pat-revoked"), now=NOW)
    with crm.h.db.sessions.begin() as session:
        assert all(not c.token.startswith("pat-") for c in session.scalars(select(CrmConnection)))
    pacer = Pacer(clock=lambda: crm.h.clock.now.timestamp(), sleep=lambda s: crm.h.clock.advance(seconds=s))
    syncers = CrmSyncers(
        crm.h.baton.deps,
        make_port=lambda token: HubSpotCrm(token, api_url=crm.local.url, pacer=pacer),
        keys=keys,
        slack=lambda team: make_client(TOKEN, crm.h.api.url),
    )
    mine, theirs = syncers.for_team(TEAM), syncers.for_team(other)
    assert mine is not None and theirs is not None and mine is not theirs
    mine.sync(TEAM)
    with pytest.raises(HubSpotRefused):
        theirs.sync(other)  # the other team's token was revoked in its HubSpot: said, and nothing else
    with crm.h.db.sessions.begin() as session:  # the other team works in Slack all the same
        create_lead(session, team_id=other, owner_id="U0OTHER", name="Other Co", now=NOW, tz=UTC)
    crm.h.command(DANA, "/logcall", "acme no answer")
    assert syncers.push_all() == 1  # the other team's refusal first (T0OTHER < T0TEST), then ours
    assert len([c for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")]) == 1
    with crm.h.db.sessions.begin() as session:
        owed = {p.team_id: p.status for p in session.scalars(select(CrmPush))}
    assert owed == {other: "pending", TEAM: "sent"}  # theirs still owed, tried again next time


def test_a_team_connects_its_own_hubspot_from_the_command_line_and_the_token_is_stored_sealed(
    crm: Crm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    from bot.secrets import new_key
    from store.models import CrmConnection

    database = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("HUBSPOT_API_URL", crm.local.url)
    monkeypatch.delenv("HUBSPOT_TOKEN", raising=False)
    env = ["--env-file", str(tmp_path / "none")]

    def connect(token: str) -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
        return main([*env, "crm", "connect", "--team", TEAM, "--token-stdin"])

    assert connect(crm.hubspot.token) == 2  # no key to seal it with: nothing stored
    assert "BATON_SECRET_KEY" in capsys.readouterr().err
    monkeypatch.setenv("BATON_SECRET_KEY", new_key())
    assert connect("pat-wrong") == 1
    assert "token" in capsys.readouterr().err
    assert connect(crm.hubspot.token) == 0
    assert "Connected team T0TEST to HubSpot (3 owners seen)" in capsys.readouterr().out
    stored = open_database(f"sqlite:///{database}", pool_size=1)
    with stored.sessions.begin() as session:
        [row] = session.scalars(select(CrmConnection)).all()
        assert crm.hubspot.token not in row.token  # sealed
    stored.engine.dispose()
    assert main([*env, "crm", "sync", "--team", TEAM, "--dry-run"]) == 0  # with the stored token
    assert "Dry run" in capsys.readouterr().out
    assert main([*env, "crm", "disconnect", "--team", TEAM]) == 0
    assert main([*env, "crm", "sync", "--team", TEAM]) == 2
    assert "crm connect --team T0TEST" in capsys.readouterr().err


def associated(crm: Crm, from_type: str, from_id: str, to_type: str) -> list[tuple[str, list[int]]]:
    """What HubSpot's v4 association read answers (over HTTP, through the official client): each
    associated record's id with its association type ids."""
    from hubspot import HubSpot as Client

    client = Client(access_token=crm.hubspot.token, host=crm.local.url)
    page = client.crm.associations.v4.basic_api.get_page(from_type, from_id, to_type)
    return [(str(r.to_object_id), sorted(t.type_id for t in r.association_types)) for r in page.results]


def test_a_contact_added_in_slack_shows_on_the_leads_company_in_hubspot_as_well_as_its_deal(
    crm: Crm,
) -> None:
    crm.sync()
    crm.h.command(DANA, "/lead", "contact acme Wendy Works, Office manager")  # no e-mail to match a domain by
    crm.app_sends()
    [wendy] = contacts_named(crm, "Wendy")
    assert associated(crm, "contacts", wendy["id"], "deals") == [(crm.ids["deal"], [4])]
    assert associated(crm, "contacts", wendy["id"], "companies") == [(crm.ids["acme"], [279])]
    # Where a sales team looks: the company's record lists her beside the people HubSpot already had.
    on_acme = [contact for contact, _ in associated(crm, "companies", crm.ids["acme"], "contacts")]
    assert sorted(on_acme) == sorted([crm.ids["jane"], wendy["id"]])
    with crm.h.db.sessions.begin() as session:
        assert [(p.kind, p.status) for p in session.scalars(select(CrmPush))] == [("contact", "sent")]


def test_a_contact_on_a_lead_with_no_hubspot_company_goes_on_its_deal_alone(crm: Crm) -> None:
    crm.sync()
    crm.h.command(DANA, "/lead", "add Initrode")  # added in Slack: a deal, and no company in HubSpot
    crm.h.command(DANA, "/lead", "contact initrode Carl Clerk, Buyer carl@initrode.com")
    report = crm.syncer.push(TEAM)
    assert (report.pushed, report.push_failed, report.errors) == (2, 0, [])
    [deal] = deals_named(crm, "Initrode")
    [carl] = contacts_named(crm, "Carl")
    assert associated(crm, "contacts", carl["id"], "deals") == [(deal["id"], [4])]
    assert associated(crm, "contacts", carl["id"], "companies") == []
    with crm.h.db.sessions.begin() as session:
        assert {p.kind: p.status for p in session.scalars(select(CrmPush))} == {
            "deal": "sent",
            "contact": "sent",
        }


@pytest.mark.parametrize("lost", ["companies", "deals"])
def test_a_lost_answer_to_a_contacts_association_is_sent_again_and_leaves_one(crm: Crm, lost: str) -> None:
    crm.sync()
    # The association is made, its answer never comes back: the push is owed again.
    crm.hubspot.faults().drop_after_write(
        1, path=f"/crm/v4/associations/contacts/{lost}/batch/associate/default"
    )
    crm.h.command(DANA, "/lead", "contact acme Bob Builder, CTO bob@acme.com")
    crm.app_sends()
    assert crm.hubspot.faults().dropped == 1
    with crm.h.db.sessions.begin() as session:
        assert session.scalars(select(CrmPush.status)).one() == "pending"
    crm.h.clock.advance(minutes=1)
    crm.app_sends()
    [bob] = contacts_named(crm, "Bob")
    assert associated(crm, "contacts", bob["id"], "companies") == [(crm.ids["acme"], [279])]
    assert associated(crm, "contacts", bob["id"], "deals") == [(crm.ids["deal"], [4])]
    with crm.h.db.sessions.begin() as session:
        assert session.scalars(select(CrmPush.status)).one() == "sent"
        assert len(session.scalars(select(Contact).where(Contact.name == "Bob Builder")).all()) == 1


def test_a_company_hubspot_refuses_or_a_missing_scope_still_puts_the_contact_on_its_deal(
    crm: Crm, caplog: pytest.LogCaptureFixture
) -> None:
    crm.sync()
    crm.hubspot.archive("companies", crm.ids["acme"])  # deleted in HubSpot since the pull
    crm.h.command(DANA, "/lead", "contact acme Bob Builder, CTO")
    crm.app_sends()
    [bob] = contacts_named(crm, "Bob")
    assert associated(crm, "contacts", bob["id"], "deals") == [(crm.ids["deal"], [4])]
    # A private app set up before contacts went on companies: still on the deal, nothing held back.
    crm.hubspot.scopes.discard("crm.objects.companies.write")
    crm.h.command(DANA, "/lead", "contact acme Wendy Works, Office manager")
    crm.app_sends()
    [wendy] = contacts_named(crm, "Wendy")
    assert associated(crm, "contacts", wendy["id"], "deals") == [(crm.ids["deal"], [4])]
    assert associated(crm, "contacts", wendy["id"], "companies") == []
    assert "crm.objects.companies.write" in caplog.text  # the log says what would add the company
    with crm.h.db.sessions.begin() as session:
        assert {p.status for p in session.scalars(select(CrmPush))} == {"sent"}


def second_acme_deal(crm: Crm) -> str:
    """A second open deal at Acme, beside the fixture's: a lead of its own, "Acme Corp (Support)"."""
    return crm.hubspot.add_deal(
        "Support", stage="qualifiedtobuy", owner=crm.owners[DANA], company=crm.ids["acme"]
    )


def baton_calls_on(crm: Crm, from_type: str, from_id: str) -> list[str]:
    """The calls Baton logged that HubSpot shows on a record (read through its association API)."""
    ours = {c["id"] for c in crm.engagements("calls") if c["properties"].get("baton_touch_id")}
    return sorted(call for call, _ in associated(crm, from_type, from_id, "calls") if call in ours)


@pytest.mark.parametrize("answer", ["400", "207"])
def test_a_deal_deleted_in_hubspot_since_the_pull_holds_back_no_other_contact_in_the_push(
    crm: Crm, caplog: pytest.LogCaptureFixture, answer: str
) -> None:
    # HubSpot answers a batch with a bad pair either way: a 400 for all of it, or a 207 with the
    # good pairs made and the bad one listed.
    crm.hubspot.multi_status = answer == "207"
    support = second_acme_deal(crm)
    crm.sync()
    # Both by e-mail, so both go in one upsert and one association call.
    crm.h.command(DANA, "/lead", "contact acme corp Bob Builder, CTO bob@acme.com")
    crm.h.command(DANA, "/lead", "contact acme corp (support) Sue Pport, Support lead sue@acme.com")
    crm.hubspot.archive("deals", support)  # deleted in HubSpot since the pull
    report = crm.syncer.push(TEAM)
    assert (report.pushed, report.push_failed, report.errors) == (2, 0, [])
    [bob] = contacts_named(crm, "Bob")
    [sue] = contacts_named(crm, "Sue")  # upserted all the same: she exists in HubSpot
    assert associated(crm, "contacts", bob["id"], "deals") == [(crm.ids["deal"], [4])]
    assert associated(crm, "contacts", bob["id"], "companies") == [(crm.ids["acme"], [279])]
    assert associated(crm, "contacts", sue["id"], "deals") == []
    assert associated(crm, "contacts", sue["id"], "companies") == [(crm.ids["acme"], [279])]
    refused = [r.getMessage() for r in caplog.records if "pushed without its deal" in r.getMessage()]
    status = {"400": "400", "207": "VALIDATION_ERROR in a multi-status answer"}[answer]
    assert refused == [
        f"Contact {sue['id']} pushed without its deal {support}: HubSpot answered {status}: "
        f"One or more associations are invalid: deals {support} does not exist"
    ]
    with crm.h.db.sessions.begin() as session:
        assert {p.status for p in session.scalars(select(CrmPush))} == {"sent"}
    # Nothing is owed again: the next push sends nothing.
    assert crm.syncer.push(TEAM).pushed == 0


def test_every_open_deal_at_a_company_puts_its_touches_and_contacts_on_the_company(crm: Crm) -> None:
    support = second_acme_deal(crm)
    crm.sync()
    crm.h.command(DANA, "/logcall", "acme corp voicemail about Q3")
    crm.h.command(DANA, "/logcall", "acme corp (support) no answer on the renewal")
    crm.h.command(DANA, "/lead", "contact acme corp (support) Sue Pport, Support lead sue@acme.com")
    crm.app_sends()
    on_deal = baton_calls_on(crm, "deals", support)
    assert len(on_deal) == 1  # the second lead's touch went on its own deal…
    [call] = on_deal
    assert associated(crm, "calls", call, "deals") == [(support, [206])]
    assert associated(crm, "calls", call, "companies") == [(crm.ids["acme"], [182])]  # …and on Acme
    # Opening Acme in HubSpot, a sales team sees both leads' calls, not only the first deal's.
    assert baton_calls_on(crm, "companies", crm.ids["acme"]) == sorted(
        baton_calls_on(crm, "deals", crm.ids["deal"]) + on_deal
    )
    [sue] = contacts_named(crm, "Sue")
    assert associated(crm, "contacts", sue["id"], "deals") == [(support, [4])]
    assert associated(crm, "contacts", sue["id"], "companies") == [(crm.ids["acme"], [279])]
    with crm.h.db.sessions.begin() as session:
        assert {p.status for p in session.scalars(select(CrmPush))} == {"sent"}


def migrate(crm: Crm, revision: str) -> None:
    """The team's database moved to `revision` (older or newer) as `python -m bot db upgrade` would."""
    from alembic import command

    from store.db import LIMITS, UNLIMITED
    from store.migrate import alembic_config

    engine = crm.h.db.engine
    engine.dispose()  # no pooled connection holds a table the migration rebuilds
    config = alembic_config(engine.execution_options(**{LIMITS: UNLIMITED}))
    (command.upgrade if revision == "head" else command.downgrade)(config, revision)


def test_a_database_from_before_keeps_its_company_and_the_next_pull_puts_the_second_deal_on_it(
    crm: Crm,
) -> None:
    support = second_acme_deal(crm)
    crm.h.clock.advance(hours=1)  # the deals were last changed well before the sync's cursor
    crm.sync()
    # As the pull before 0023 left it: Acme linked to its first lead only.
    migrate(crm, "0022_uninstall")
    crm.h.clock.advance(hours=3)
    migrate(crm, "head")
    crm.h.command(DANA, "/logcall", "acme corp voicemail about Q3")
    crm.app_sends()
    [first] = baton_calls_on(crm, "deals", crm.ids["deal"])
    assert associated(crm, "calls", first, "companies") == [(crm.ids["acme"], [182])]  # kept, no pull yet
    # Incremental, and HubSpot changed neither deal since the last pull: the upgrade has it read
    # every deal once more.
    report = crm.sync()
    assert (report.full, report.deals, report.counts.leads_added) == (False, 4, 0)
    crm.h.command(DANA, "/logcall", "acme corp (support) no answer on the renewal")
    crm.app_sends()
    [second] = baton_calls_on(crm, "deals", support)
    assert associated(crm, "calls", second, "companies") == [(crm.ids["acme"], [182])]
    assert baton_calls_on(crm, "companies", crm.ids["acme"]) == sorted([first, second])
