"""Tips fit where the lead stands and never repeat the last one given on the same lead."""

from dataclasses import replace

import pytest

from coaching.rules import Outcome, Stage
from coaching.tips import TIPS, Situation, TipFacts, choose_tip

PROSPECTING = (Situation.FIRST_TRY, Situation.VOICEMAIL, Situation.NO_ANSWER, Situation.EMAIL)

FIRST_VOICEMAIL = TipFacts(
    outcome=Outcome.VOICEMAIL,
    stage=Stage.TRYING,
    attempts=1,
    meeting_booked=False,
    meeting_ahead=False,
    in_conversation=False,
    first_touch=True,
    was_stalled=False,
    past_cycle=False,
)


def test_the_first_try_on_a_new_prospect_gets_the_first_try_tip() -> None:
    assert choose_tip(FIRST_VOICEMAIL, seed=0).situation is Situation.FIRST_TRY


def test_a_lead_in_conversation_never_gets_first_try_advice() -> None:
    facts = replace(FIRST_VOICEMAIL, stage=Stage.REACHED, in_conversation=True, first_touch=False)
    for seed in range(6):
        assert choose_tip(facts, seed=seed).situation is Situation.FOLLOWING_UP


def test_the_first_try_tip_is_only_for_the_first_touch_of_a_lead() -> None:
    facts = replace(FIRST_VOICEMAIL, first_touch=False)
    assert choose_tip(facts, seed=0).situation is Situation.VOICEMAIL


@pytest.mark.parametrize("outcome", [Outcome.EMAIL, Outcome.CALL, Outcome.VOICEMAIL, Outcome.NO_ANSWER])
def test_a_try_before_a_booked_meeting_is_coached_as_the_reminder(outcome: Outcome) -> None:
    facts = replace(
        FIRST_VOICEMAIL,
        outcome=outcome,
        stage=Stage.REACHED,
        in_conversation=True,
        first_touch=False,
        meeting_ahead=True,
    )
    assert choose_tip(facts, seed=3).situation is Situation.MEETING_AHEAD


def test_the_booking_tip_leaves_the_reminder_to_the_next_step_line() -> None:
    for text in TIPS[Situation.MEETING_BOOKED]:
        assert "remind" not in text.casefold()


def test_the_same_tip_is_never_given_twice_in_a_row_on_a_lead() -> None:
    every_state = [
        FIRST_VOICEMAIL,
        replace(FIRST_VOICEMAIL, first_touch=False, outcome=Outcome.CALL),
        replace(FIRST_VOICEMAIL, first_touch=False, stage=Stage.SUGGEST, attempts=6),
        replace(FIRST_VOICEMAIL, first_touch=False, stage=Stage.INSIST, attempts=8),
        replace(FIRST_VOICEMAIL, first_touch=False, stage=Stage.CAP, attempts=12),
        replace(FIRST_VOICEMAIL, first_touch=False, past_cycle=True),
        replace(FIRST_VOICEMAIL, outcome=Outcome.NO_ANSWER, stage=Stage.REACHED, in_conversation=True),
        replace(FIRST_VOICEMAIL, outcome=Outcome.EMAIL, stage=Stage.REACHED, was_stalled=True),
        replace(FIRST_VOICEMAIL, outcome=Outcome.CONNECTED, stage=Stage.REACHED),
        replace(FIRST_VOICEMAIL, outcome=Outcome.MEETING, meeting_booked=True, stage=Stage.REACHED),
    ]
    for facts in every_state:
        last = None
        for seed in range(5):  # the same state touch after touch, as a rep chasing one lead
            given = choose_tip(replace(facts, last_tip=last), seed=seed)
            assert given.key != last, facts
            last = given.key


def test_each_tip_key_names_its_situation_and_wording() -> None:
    given = choose_tip(replace(FIRST_VOICEMAIL, first_touch=False), seed=1)
    assert given.key == f"voicemail:{TIPS[Situation.VOICEMAIL].index(given.text)}"
