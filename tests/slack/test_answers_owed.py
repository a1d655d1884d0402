"""Every answer owed with the work it reports: a process killed right after a click's or a
command's work committed, before anything was said, still answers once when it is taken over."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from coaching.settings import TeamConfig
from handlers.blocks.ids import Action
from store.db import Database
from tests.conftest import DANA, KENJI, MORGAN, SAM, Harness, flatten, lapse_sending, start_harness
from tests.slack.test_digest import _lead_id, two_leads_due
from tests.slack.test_handoffs import OPS_CHANNEL, request_card


@pytest.fixture
def team(database: Database) -> Iterator[Harness]:
    """Two managers, an operations channel, and Dana's lead Acme Corp."""
    config = TeamConfig(manager_ids=frozenset({MORGAN, KENJI}), ops_channel=OPS_CHANNEL)
    h = start_harness(database, config=config)
    h.api.workspace.channels[OPS_CHANNEL] = "ops"
    h.command(DANA, "/lead", "add Acme Corp")
    yield h
    h.stop()


class Killed(BaseException):
    """The process stopped (kill -9, as seen from inside): nothing after this line ran."""


@contextmanager
def killed_after_the_work_commits(h: Harness) -> Iterator[list[str]]:
    """The process dies at its first statement after the commit that marked a request done."""
    state = {"marked": False, "committed": False}
    killed: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.lstrip().upper()
        if state["committed"] and not killed:
            killed.append(statement)
            raise Killed()
        if words.startswith("UPDATE INBOX") and "DONE_AT" in words:
            state["marked"] = True

    def committed(conn: Any) -> None:
        if state["marked"]:
            state["committed"] = True

    event.listen(h.db.engine, "before_cursor_execute", before)
    event.listen(h.db.engine, "commit", committed)
    try:
        yield killed
    finally:
        event.remove(h.db.engine, "before_cursor_execute", before)
        event.remove(h.db.engine, "commit", committed)


def taken_over(h: Harness) -> None:
    """The process that replaces the dead one: the dead one's leases are out, its recovery runs."""
    lapse_sending(h.db)
    h.clock.advance(minutes=1)
    h.baton.recover()
    h.baton.pool.wait_idle()


def test_a_snooze_killed_after_it_committed_still_shows_the_digest_again(harness: Harness) -> None:
    digest = two_leads_due(harness)
    with killed_after_the_work_commits(harness) as killed:
        harness.slack.click(DANA, digest, Action.DIGEST_SNOOZE, value=str(_lead_id(harness, "Acme Corp")))
    assert killed
    assert "Snoozed Acme Corp" not in flatten(harness.api.message(digest.id).blocks)
    taken_over(harness)
    updated = flatten(harness.api.message(digest.id).blocks)
    assert "Snoozed Acme Corp until" in updated and "*Acme Corp*" not in updated


def test_a_rep_refused_approval_is_told_once_even_if_killed_after_the_commit(team: Harness) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    card = request_card(team)
    with killed_after_the_work_commits(team) as killed:
        team.slack.click(SAM, card, Action.TRANSFER_APPROVE)
    assert killed
    assert not [m for m in team.api.seen_by(SAM) if "Only managers" in flatten(m.blocks)]
    taken_over(team)
    assert len([m for m in team.api.seen_by(SAM) if "Only managers" in flatten(m.blocks)]) == 1


def test_a_hand_off_to_operations_killed_after_it_committed_still_answers_and_posts_once(
    team: Harness,
) -> None:
    with killed_after_the_work_commits(team) as killed:
        team.slack.command(DANA, "/handoff", "acme ops 40 seats, annual; go-live by 15 Jan")
    assert killed
    taken_over(team)
    answers = [m for m in team.api.seen_by(DANA) if "marked won" in flatten(m.blocks)]
    cards = [m for m in team.api.shown if m.channel == OPS_CHANNEL]
    assert len(answers) == 1 and len(cards) == 1
    assert "<#C0OPS>" in flatten(answers[0].blocks)


def test_a_late_claim_on_the_operations_card_is_told_once_even_if_killed_after_the_commit(
    team: Harness,
) -> None:
    team.command(DANA, "/handoff", "acme ops 40 seats, annual; go-live by 15 Jan")
    [card] = [m for m in team.api.shown if m.channel == OPS_CHANNEL]
    as_kenji_saw_it = copy.deepcopy(card)
    team.click(SAM, card, Action.OPS_CLAIM)
    with killed_after_the_work_commits(team) as killed:
        team.slack.click(KENJI, as_kenji_saw_it, Action.OPS_CLAIM)
    assert killed
    taken_over(team)
    told = [m for m in team.api.seen_by(KENJI) if "already taken by <@U0SAM>" in flatten(m.blocks)]
    assert len(told) == 1


def test_a_decision_refused_in_the_reason_form_is_told_by_dm_even_if_killed_after_the_commit(
    team: Harness,
) -> None:
    team.command(DANA, "/handoff", "acme @sam")
    team.slack.click(KENJI, request_card(team, KENJI), Action.TRANSFER_REJECT_WHY)
    form = team.slack.open_modal(KENJI)
    assert form is not None
    team.click(MORGAN, request_card(team, MORGAN), Action.TRANSFER_APPROVE)  # decided meanwhile
    with killed_after_the_work_commits(team) as killed:
        team.slack.submit(
            KENJI, form, {"reason": {"reason": {"type": "plain_text_input", "value": "Not yet"}}}
        )
    assert killed
    taken_over(team)
    told = [m for m in team.dms(KENJI) if "Already decided" in flatten(m.blocks)]
    assert len(told) == 1
