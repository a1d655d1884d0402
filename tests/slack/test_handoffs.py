"""/handoff and the managers' decision, as reps, managers and operations see it."""

import copy
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.localslack import Shown
from coaching.settings import TeamConfig
from handlers.blocks.ids import Action
from handlers.handoff_posts import sweep
from store.db import Database
from store.models import Lead, OpsHandoff, TransferRequest
from tests.conftest import DANA, KENJI, MORGAN, SAM, Harness, flatten, start_harness

OPS_CHANNEL = "C0OPS"
SECOND_MANAGER = KENJI


def owner(h: Harness, name: str = "Acme Corp") -> str:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead.owner_id).where(Lead.name == name)).one()


def transfers(h: Harness) -> list[TransferRequest]:
    with h.db.readers.begin() as session:
        return list(session.scalars(select(TransferRequest).order_by(TransferRequest.id)))


def request_card(h: Harness, manager: str = MORGAN) -> Shown:
    cards = [m for m in h.dms(manager) if "Hand-off request" in flatten(m.blocks)]
    assert cards, f"{manager} got no hand-off request"
    return cards[-1]


def buttons(message: Shown) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture
def team(database: Database) -> Iterator[Harness]:
    """Two managers, an operations channel, and Dana's lead Acme Corp with five unanswered tries."""
    config = TeamConfig(manager_ids=frozenset({MORGAN, SECOND_MANAGER}), ops_channel=OPS_CHANNEL)
    h = start_harness(database, config=config)
    h.api.workspace.channels[OPS_CHANNEL] = "ops"
    h.command(DANA, "/lead", "add Acme Corp")
    for _ in range(5):
        h.command(DANA, "/logcall", "acme vm")
        h.clock.advance(days=4)
    yield h
    h.stop()
    assert h.api.problems == [], h.api.problems


# ---- asking -----------------------------------------------------------------------------------------


def test_passing_a_lead_on_asks_every_manager_with_what_they_need_to_decide(team: Harness) -> None:
    reply = team.command(DANA, "/handoff", "acme @sam they used to work with the CFO")
    assert "You'll get a DM when they decide" in flatten(reply.blocks)
    for manager in (MORGAN, SECOND_MANAGER):
        card = flatten(request_card(team, manager).blocks)
        assert "<@U0DANA> wants to hand *Acme Corp* to <@U0SAM>" in card
        assert "they used to work with the CFO" in card
        assert "20 days (sales cycle 90)" in card
        assert "5 of 8 without reaching anyone" in card
        assert "never: still a prospect" in card
        assert "Ground rule" in card
    assert buttons(request_card(team)) == [
        Action.TRANSFER_APPROVE,
        Action.TRANSFER_REJECT,
        Action.TRANSFER_REJECT_WHY,
    ]
    assert owner(team) == DANA


def test_asking_to_take_over_a_lead_names_the_connection_ground_rule(team: Harness) -> None:
    team.command(SAM, "/handoff", "acme @sam I know their CTO from my last job")
    card = flatten(request_card(team).blocks)
    assert "<@U0SAM> asks to take over *Acme Corp* from <@U0DANA>" in card
    assert "Someone has a way in" in card


def test_a_request_goes_to_the_managers_channel_when_one_is_set(database: Database) -> None:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN}), manager_channel="C0MGRS"))
    try:
        h.command(DANA, "/lead", "add Acme Corp")
        h.command(DANA, "/handoff", "acme @sam")
        posts = [m for m in h.api.shown if m.channel == "C0MGRS"]
        assert len(posts) == 1 and "Hand-off request" in flatten(posts[0].blocks)
        assert h.dms(MORGAN) == []
    finally:
        h.stop()


def test_a_managers_own_hand_off_happens_at_once_and_is_recorded(team: Harness) -> None:
    reply = team.command(MORGAN, "/handoff", "acme @sam rebalancing territories")
    assert owner(team) == SAM
    [transfer] = transfers(team)
    assert (transfer.status, transfer.decided_by) == ("approved", MORGAN)
    assert "Moved *Acme Corp* to <@U0SAM>" in flatten(reply.blocks)
    news = flatten(team.dms(SAM)[-1].blocks)
    # A manager's own move is a move, not an approval of nobody's request, and it says why.
    assert "You now own *Acme Corp* (from <@U0DANA>, moved to you by <@U0MORGAN>)" in news
    assert "approved" not in news and "rebalancing territories" in news
    told = flatten(team.dms(DANA)[-1].blocks)
    assert "<@U0MORGAN> moved it" in told and "rebalancing territories" in told
    card = flatten(team.command(DANA, "/lead", "show acme").blocks)
    assert "*Hand-offs*" in card and "moved by <@U0MORGAN>" in card and "approved" not in card


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme @dana", "already <@U0DANA>'s lead"),
        ("acme @ghost", "Who should *Acme Corp* go to?"),
        ("acme", "Who should *Acme Corp* go to?"),
    ],
)
def test_impossible_hand_offs_are_explained(team: Harness, text: str, expected: str) -> None:
    assert expected in flatten(team.command(DANA, "/handoff", text).blocks)
    assert transfers(team) == []


def test_a_deactivated_colleague_cant_receive_a_lead(team: Harness) -> None:
    team.api.workspace.users[SAM].deleted = True
    assert "can't take leads" in flatten(team.command(DANA, "/handoff", "acme @sam").blocks)
    assert transfers(team) == []


def test_only_one_request_per_lead_waits_at_a_time(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    again = flatten(team.command(DANA, "/handoff", "acme @kenji").blocks)
    assert "already waiting for a manager" in again
    assert len(transfers(team)) == 1


def test_without_any_manager_a_request_is_refused_with_the_way_to_add_one(database: Database) -> None:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset()))
    try:
        h.command(DANA, "/lead", "add Acme Corp")
        assert "/coach managers add" in flatten(h.command(DANA, "/handoff", "acme @sam").blocks)
    finally:
        h.stop()


# ---- deciding -----------------------------------------------------------------------------------------


def test_approval_moves_the_lead_updates_every_copy_and_tells_each_person_once(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    team.click(MORGAN, request_card(team), Action.TRANSFER_APPROVE)
    assert owner(team) == SAM
    for manager in (MORGAN, SECOND_MANAGER):
        copy = request_card(team, manager)
        assert buttons(copy) == []  # nothing left to press
        assert "*Approved* by <@U0MORGAN>" in flatten(copy.blocks)
    assert [flatten(m.blocks) for m in team.dms(SAM)][-1].startswith(":inbox_tray: You now own *Acme Corp*")
    dana_news = [m for m in team.dms(DANA) if "Acme Corp" in flatten(m.blocks)]
    assert len(dana_news) == 1 and "now <@U0SAM>'s lead" in flatten(dana_news[0].blocks)
    with team.db.readers.begin() as session:
        lead = session.scalars(select(Lead)).one()
    assert lead.next_follow_up == date(
        2026, 12, 14
    )  # approved on a Sunday: due the new owner's next working day
    assert lead.attempts == 0  # a fresh start for the new owner; the history stays


def test_rejection_with_a_reason_reaches_everyone_involved(team: Harness) -> None:
    team.command(SAM, "/handoff", "acme @sam")
    team.slack.click(MORGAN, request_card(team), Action.TRANSFER_REJECT_WHY)
    view = team.slack.open_modal(MORGAN)
    assert view is not None and view["callback_id"] == Action.TRANSFER_REASON_MODAL
    reply = team.slack.submit(
        MORGAN, view, {"reason": {"reason": {"type": "plain_text_input", "value": "Dana is close"}}}
    )
    assert reply.status == 200
    assert owner(team) == DANA
    for person in (SAM, DANA):
        news = flatten(team.dms(person)[-1].blocks)
        assert "decided not to move *Acme Corp*" in news and "Dana is close" in news
    assert "*Not approved* by <@U0MORGAN>" in flatten(request_card(team).blocks)


def test_a_rep_pressing_approve_is_told_only_managers_can_and_nothing_changes(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    card = request_card(team)
    answer = team.click(SAM, card, Action.TRANSFER_APPROVE)
    assert "Only managers" in flatten(answer.blocks)
    assert owner(team) == DANA and transfers(team)[0].status == "pending"


def test_a_rep_pressing_reject_with_a_reason_is_refused_at_the_click_with_no_form(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    answer = team.click(SAM, request_card(team), Action.TRANSFER_REJECT_WHY)
    assert "Only managers" in flatten(answer.blocks)
    assert team.slack.open_modal(SAM) is None  # no form to fill in for nothing
    assert owner(team) == DANA and transfers(team)[0].status == "pending"


def test_a_second_click_is_told_it_was_already_decided(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    before_update = Shown(
        **{**request_card(team, SECOND_MANAGER).__dict__, "blocks": _with_buttons(request_card(team))}
    )
    team.click(MORGAN, request_card(team, MORGAN), Action.TRANSFER_APPROVE)
    answer = team.slack.click(SECOND_MANAGER, before_update, Action.TRANSFER_REJECT)
    assert answer.status == 200
    assert any("Already decided" in flatten(m.blocks) for m in team.api.seen_by(SECOND_MANAGER))
    assert transfers(team)[0].status == "approved" and owner(team) == SAM


def _with_buttons(message: Shown) -> list[dict[str, object]]:
    """A copy of a request as it looked before the decision updated it (a slow client)."""
    return [
        *[b for b in message.blocks if b["type"] != "actions"],
        {
            "type": "actions",
            "block_id": "transfer:1",
            "elements": [
                {
                    "type": "button",
                    "action_id": Action.TRANSFER_APPROVE,
                    "value": "1",
                    "text": {"type": "plain_text", "text": "Approve"},
                },
                {
                    "type": "button",
                    "action_id": Action.TRANSFER_REJECT,
                    "value": "1",
                    "text": {"type": "plain_text", "text": "Reject"},
                },
            ],
        },
    ]


def test_racing_clicks_from_two_web_processes_make_exactly_one_decision(team: Harness) -> None:
    """Two managers, Approve and Reject, double clicks, through two app instances on one database."""
    second_process = start_harness(
        team.db,
        clock=team.clock,
        config=TeamConfig(manager_ids=frozenset({MORGAN, SECOND_MANAGER})),
        api=team.api,
    )
    try:
        team.command(DANA, "/handoff", "acme @sam")
        card = Shown(**{**request_card(team).__dict__, "blocks": _with_buttons(request_card(team))})
        clicks = [
            (team, MORGAN, Action.TRANSFER_APPROVE),
            (second_process, MORGAN, Action.TRANSFER_APPROVE),
            (team, SECOND_MANAGER, Action.TRANSFER_REJECT),
            (second_process, SECOND_MANAGER, Action.TRANSFER_APPROVE),
        ] * 3
        bodies = [
            (
                h,
                urlencode(
                    {"payload": json.dumps(h.slack.block_actions(user, card, [_action(card, action)]))}
                ),
            )
            for h, user, action in clicks
        ]
        start = threading.Barrier(len(bodies))
        statuses: list[int] = []

        def click(h: Harness, body: str) -> None:
            start.wait()
            statuses.append(h.slack.send(body, "application/x-www-form-urlencoded").status)

        threads = [threading.Thread(target=click, args=pair) for pair in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        team.baton.pool.wait_idle()
        second_process.baton.pool.wait_idle()
        assert statuses == [200] * len(bodies)
        [transfer] = transfers(team)
        assert transfer.status in ("approved", "rejected")
        assert owner(team) == (SAM if transfer.status == "approved" else DANA)
        # One set of notifications: Sam and Dana each hear about it exactly once.
        for person in (SAM, DANA):
            news = [m for m in team.dms(person) if m.text.startswith("Hand-off of Acme Corp:")]
            assert len(news) == 1, [m.text for m in news]
    finally:
        second_process.server.stop()
        second_process.baton.pool.shutdown(wait=True)


def _action(card: Shown, action_id: str) -> dict[str, object]:
    return {
        "action_id": action_id,
        "block_id": "transfer:1",
        "type": "button",
        "value": "1",
        "action_ts": "1",
    }


def test_a_click_for_another_workspace_or_an_unknown_or_malformed_id_changes_nothing(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    card = Shown(**{**request_card(team).__dict__, "blocks": _with_buttons(request_card(team))})
    payload = team.slack.block_actions(MORGAN, card, [_action(card, Action.TRANSFER_APPROVE)])
    payload["team"] = {"id": "T0OTHER", "domain": "other"}
    payload["user"]["team_id"] = "T0OTHER"
    assert (
        team.slack.send(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        ).status
        == 200
    )
    for value in ("999", "1; DROP TABLE lead", "", "1:2"):
        payload = team.slack.block_actions(
            MORGAN, card, [{**_action(card, Action.TRANSFER_APPROVE), "value": value}]
        )
        assert (
            team.slack.send(
                urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
            ).status
            == 200
        )
    answers = [flatten(m.blocks) for m in team.api.seen_by(MORGAN) if m.ephemeral]
    assert any("doesn't know that request" in a for a in answers)
    assert any("out of date" in a for a in answers)
    assert transfers(team)[0].status == "pending" and owner(team) == DANA


def test_a_request_for_a_lead_won_meanwhile_is_closed_as_moot(team: Harness) -> None:
    team.command(SAM, "/handoff", "acme @sam")
    team.command(DANA, "/lead", "won acme")
    team.click(MORGAN, request_card(team), Action.TRANSFER_APPROVE)
    assert transfers(team)[0].status == "moot"
    assert owner(team) == DANA
    assert "*Closed*" in flatten(request_card(team).blocks)


# ---- waiting ------------------------------------------------------------------------------------------


def test_requests_waiting_two_working_days_are_shown_to_managers_again(team: Harness) -> None:
    team.clock.now = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)  # a Friday
    team.command(DANA, "/handoff", "acme @sam")
    team.clock.now = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)  # Monday: one working day
    assert sweep(team.baton.deps, team.baton.client) == (0, 0)
    team.clock.now = datetime(2026, 12, 22, 15, 0, tzinfo=UTC)  # Tuesday: two
    assert sweep(team.baton.deps, team.baton.client) == (1, 0)
    reminder = [m for m in team.dms(MORGAN) if "Still waiting" in flatten(m.blocks)]
    assert len(reminder) == 1 and buttons(reminder[0])[0] == Action.TRANSFER_APPROVE
    assert sweep(team.baton.deps, team.baton.client) == (0, 0)  # not again the same day
    team.click(MORGAN, reminder[0], Action.TRANSFER_APPROVE)
    assert all(
        buttons(m) == []
        for m in team.dms(MORGAN)
        if "Hand-off" in flatten(m.blocks) or "Still" in flatten(m.blocks)
    )


def test_the_sweep_closes_requests_whose_lead_moved_on(team: Harness) -> None:
    team.command(SAM, "/handoff", "acme @sam")
    team.command(DANA, "/lead", "lost acme")
    assert sweep(team.baton.deps, team.baton.client) == (0, 1)
    assert transfers(team)[0].status == "moot"
    assert "*Closed*" in flatten(request_card(team).blocks)
    assert any("was closed" in flatten(m.blocks) for m in team.dms(SAM))


# ---- operations and new contacts ------------------------------------------------------------------


def test_a_signed_customer_goes_to_operations_who_claim_it(team: Harness) -> None:
    team.command(DANA, "/lead", "contact acme Jane Doe COO dm")
    reply = team.command(
        DANA, "/handoff", "acme ops 40 seats, annual; go-live by 15 Jan; Jane wants weekly check-ins"
    )
    assert "marked won" in flatten(reply.blocks) and "<#C0OPS>" in flatten(reply.blocks)
    [card] = [m for m in team.api.shown if m.channel == OPS_CHANNEL]
    text = flatten(card.blocks)
    assert "New customer: Acme Corp" in text and "Jane Doe, COO · *decision-maker*" in text
    assert "weekly check-ins" in text and "<@U0DANA>" in text
    as_kenji_saw_it = copy.deepcopy(card)
    team.click(SAM, card, Action.OPS_CLAIM)  # Sam works in operations here
    assert "Taken by <@U0SAM>" in flatten(team.api.message(card.id).blocks)
    assert "took the operations hand-off" in flatten(team.dms(DANA)[-1].blocks)
    late = team.slack.click(KENJI, as_kenji_saw_it, Action.OPS_CLAIM)
    assert late.status == 200
    assert "already taken by <@U0SAM>" in flatten(team.api.seen_by(KENJI)[-1].blocks)
    with team.db.readers.begin() as session:
        handoff = session.scalars(select(OpsHandoff)).one()
        lead = session.scalars(select(Lead)).one()
    assert (handoff.claimed_by, lead.status, lead.owner_id) == (SAM, "won", DANA)


def test_ops_without_notes_asks_for_what_operations_needs(team: Harness) -> None:
    view = team.modal(DANA, "/handoff", "acme ops")
    assert view["callback_id"] == Action.OPS_MODAL
    empty = team.slack.submit(DANA, view, {"sold": {"sold": {"type": "plain_text_input", "value": ""}}})
    assert empty.json["response_action"] == "errors"
    view = team.slack.open_modal(DANA)
    assert view is not None
    values = {
        "sold": {"sold": {"type": "plain_text_input", "value": "Platform, 40 seats"}},
        "timeline": {"timeline": {"type": "plain_text_input", "value": "Go-live 15 Jan"}},
        "notes": {"notes": {"type": "plain_text_input", "value": None}},
    }
    assert team.slack.submit(DANA, view, values).status == 200
    [card] = [m for m in team.api.shown if m.channel == OPS_CHANNEL]
    assert "Platform, 40 seats" in flatten(card.blocks) and "Go-live 15 Jan" in flatten(card.blocks)


def test_without_an_operations_channel_the_rep_is_told_before_any_form(database: Database) -> None:
    h = start_harness(database, config=TeamConfig(manager_ids=frozenset({MORGAN})))
    try:
        h.command(DANA, "/lead", "add Stark Industries")
        reply = h.command(DANA, "/handoff", "stark ops")
        assert h.slack.open_modal(DANA) is None
        assert flatten(reply.blocks) == (
            ":warning: No operations channel is set up, so there is nowhere to hand *Stark Industries* "
            "to yet. An admin can set one with `/coach set ops_channel #ops`; meanwhile `/lead won …` "
            "marks it won. Nothing changed."
        )
        assert owner(h, "Stark Industries") == DANA
        with h.db.readers.begin() as session:
            assert session.scalars(select(Lead.status)).one() == "open"
            assert session.scalars(select(OpsHandoff)).all() == []
    finally:
        h.stop()


def test_a_rep_asks_to_take_over_a_lead_with_at_me_as_the_readme_shows(team: Harness) -> None:
    team.command(SAM, "/lead", "add Pied Piper")
    reply = team.command(DANA, "/handoff", "pied piper @me I used to work with their CTO")
    assert flatten(reply.blocks) == (
        ":outbox_tray: Asked <@U0KENJI> and <@U0MORGAN> to let you take over *Pied Piper* from <@U0SAM>. "
        "You'll get a DM when they decide."
    )
    card = flatten(request_card(team).blocks)
    assert "<@U0DANA> asks to take over *Pied Piper* from <@U0SAM>." in card
    assert "I used to work with their CTO" in card


def test_people_told_of_a_rejection_read_about_themselves_as_you(team: Harness) -> None:
    team.command(SAM, "/lead", "add Pied Piper")
    team.command(DANA, "/handoff", "pied piper @me I used to work with their CTO")
    team.click(MORGAN, request_card(team), Action.TRANSFER_REJECT)
    assert flatten(team.dms(DANA)[-1].blocks) == (
        ":x: <@U0MORGAN> decided not to move *Pied Piper* to you; it stays with <@U0SAM>."
    )
    assert flatten(team.dms(SAM)[-1].blocks) == (
        ":x: <@U0MORGAN> decided not to move *Pied Piper* to <@U0DANA>; it stays with you.\n"
        "*Why <@U0DANA> asked:*\n> I used to work with their CTO"
    )


def test_the_owner_is_told_why_a_colleague_asked_for_their_lead_when_it_is_approved(team: Harness) -> None:
    team.command(SAM, "/lead", "add Pied Piper")
    team.command(DANA, "/handoff", "pied piper @me I used to work with their CTO")
    team.click(MORGAN, request_card(team), Action.TRANSFER_APPROVE)
    told = flatten(team.dms(SAM)[-1].blocks)
    assert told.startswith(":outbox_tray: *Pied Piper* is now <@U0DANA>'s lead, approved by <@U0MORGAN>.")
    assert "*Why <@U0DANA> asked:*\n> I used to work with their CTO" in told


def test_a_request_closed_as_moot_says_what_happened_to_the_lead(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam they know the CTO")
    team.command(DANA, "/lead", "won acme")
    sweep(team.baton.deps, team.baton.client)
    assert flatten(team.dms(SAM)[-1].blocks) == (
        ":heavy_minus_sign: The request to move *Acme Corp* to you was closed: the lead was won meanwhile."
    )
    outcome = flatten(request_card(team).blocks).split("\n")[-1]
    assert outcome.startswith(":heavy_minus_sign: *Closed* <!date^")
    assert outcome.endswith(": the lead was won before a decision")


def test_ops_after_picking_among_two_matches_marks_it_won_and_posts_the_card(team: Harness) -> None:
    team.command(DANA, "/lead", "add Acme Logistics")
    question = team.command(DANA, "/handoff", "acme ops 50 seats, Pro plan, starts in January")
    [corp] = [
        e
        for b in question.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Acme Corp"
    ]
    team.slack.click(DANA, question, Action.DRAFT_PICK, value=corp["value"])
    answered = team.api.message(question.id)
    assert flatten(answered.blocks) == (
        ":trophy: *Acme Corp* is marked won. :outbox_tray: Handed to operations in <#C0OPS>. "
        "Baton will tell you who takes it."
    )
    [card] = [m for m in team.api.shown if m.channel == OPS_CHANNEL]
    assert "50 seats, Pro plan, starts in January" in flatten(card.blocks)
    with team.db.readers.begin() as session:
        assert len(session.scalars(select(OpsHandoff)).all()) == 1


def test_retrying_a_hand_off_whose_card_never_posted_leaves_one_record(team: Harness) -> None:
    team.api.fail("chat.postMessage", status=200, error="channel_not_found")
    first = flatten(team.command(DANA, "/handoff", "acme ops 50 seats").blocks)
    assert "Couldn't post the hand-off" in first
    retry = flatten(team.command(DANA, "/handoff", "acme ops 50 seats, Pro plan").blocks)
    assert retry == ":outbox_tray: Handed to operations in <#C0OPS>. Baton will tell you who takes it."
    with team.db.readers.begin() as session:
        [handoff] = session.scalars(select(OpsHandoff)).all()
    assert handoff.notes == "50 seats, Pro plan"
    assert len([m for m in team.api.shown if m.channel == OPS_CHANNEL]) == 1


def test_being_handed_to_a_new_contact_starts_the_attempts_afresh_with_a_tip(team: Harness) -> None:
    reply = flatten(team.command(DANA, "/handoff", "acme contact Raj Patel Procurement lead").blocks)
    assert "Raj Patel, Procurement lead" in reply and "starts afresh" in reply
    assert "Treat the new person with respect" in reply or "new contact" in reply.lower()
    logged = flatten(team.command(DANA, "/logcall", "acme vm").blocks)
    assert "Attempt 1 of 8" in logged


def test_a_rep_who_takes_their_own_operations_card_is_told_in_the_second_person(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme ops 50 seats")
    [card] = [m for m in team.api.shown if m.channel == OPS_CHANNEL]
    team.slack.click(DANA, card, Action.OPS_CLAIM)
    assert flatten(team.dms(DANA)[-1].blocks) == (
        ":handshake: You took the operations hand-off for *Acme Corp* yourself."
    )


def test_a_lead_approved_in_chicago_at_evening_is_due_on_the_london_owners_next_working_day(
    team: Harness,
) -> None:
    team.clock.now = datetime(2026, 12, 14, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York
    team.command(DANA, "/handoff", "acme @sam")
    # Monday 19:00 in Chicago is already Tuesday 01:00 in London.
    team.clock.now = datetime(2026, 12, 15, 1, 0, tzinfo=UTC)
    team.click(MORGAN, request_card(team), Action.TRANSFER_APPROVE)
    news = flatten(team.dms(SAM)[-1].blocks)
    assert "Your first try is due tomorrow" in news
    pipeline = flatten(team.command(SAM, "/pipeline").blocks)
    assert "overdue" not in pipeline
    with team.db.readers.begin() as session:
        assert session.scalars(select(Lead.next_follow_up)).one() == date(2026, 12, 16)
    team.clock.now = datetime(2026, 12, 16, 9, 0, tzinfo=UTC)  # Wednesday morning in London
    assert "Acme Corp" in flatten(team.command(SAM, "/pipeline").blocks).split("Due today")[1]


def test_a_decided_card_keeps_the_facts_it_was_decided_on(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    asked = flatten(request_card(team).blocks)
    team.click(MORGAN, request_card(team), Action.TRANSFER_APPROVE)
    decided = flatten(request_card(team).blocks)
    # The move resets Sam's attempts to zero; the managers' card still shows what they weighed.
    assert "5 of 8 without reaching anyone" in asked and "5 of 8 without reaching anyone" in decided
    assert asked.split("\nApprove")[0] == decided.split("\n:white_check_mark: *Approved*")[0]


def test_the_card_shows_the_last_touch_as_a_day_in_each_readers_own_calendar(team: Harness) -> None:
    # 23:00 on Sunday 13 December in New York is already Monday 04:00 in UTC and in London.
    team.clock.now = datetime(2026, 12, 14, 4, 0, tzinfo=UTC)
    team.command(DANA, "/logcall", "acme email sent the case study")
    team.clock.now = datetime(2026, 12, 14, 15, 0, tzinfo=UTC)
    team.command(DANA, "/handoff", "acme @sam")
    card = flatten(request_card(team).blocks)
    stamp = int(datetime(2026, 12, 14, 4, 0, tzinfo=UTC).timestamp())
    assert f"*Last touch*\n<!date^{stamp}^{{date_short_pretty}}|" in card  # "Yesterday" in New York
    assert "days ago" not in card and "today" not in card.split("*Last touch*")[1].split("\n")[1]
