"""The coach's voice: one short tip per touch, chosen by pure rules from the lead's state and history.

Written in Baton's own words from the ideas in the sales articles: persistence without pushiness,
add value instead of chasing, respect an opt-out, remind before meetings, find the real
decision-maker, and winnow leads that have outlived the sales cycle.

A tip must fit where the lead stands (no "first try" advice on a lead already in conversation, no
prospecting advice on the reminder before a booked meeting) and must not repeat the tip the rep
was given on that lead last time: a coach who says the same thing twice in a row stops being read.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from coaching.rules import Outcome, Stage


class Situation(StrEnum):
    FIRST_TRY = "first_try"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    EMAIL = "email"
    CALL = "call"
    SUGGEST = "suggest"
    INSIST = "insist"
    CAP = "cap"
    CONNECTED = "connected"
    REPLIED = "replied"
    MEETING_BOOKED = "meeting_booked"
    MEETING_HELD = "meeting_held"
    NOT_INTERESTED = "not_interested"
    OPT_OUT = "opt_out"
    STALLED = "stalled"
    PAST_CYCLE = "past_cycle"
    HANDED_TO_NEW_CONTACT = "handed_to_new_contact"
    MEETING_AHEAD = "meeting_ahead"  # a try on a lead with a meeting booked: usually the reminder
    FOLLOWING_UP = "following_up"  # a try on a lead already in conversation


@dataclass(frozen=True)
class Tip:
    situation: Situation
    text: str
    variant: int = 0

    @property
    def key(self) -> str:
        """What is stored with the touch, so the next tip on the lead can differ from this one."""
        return f"{self.situation.value}:{self.variant}"


TIPS: dict[Situation, tuple[str, ...]] = {
    Situation.FIRST_TRY: (
        "First try logged. Before the next one, spend five minutes on their business: a call that "
        "shows you know what they do gets a very different reception from one that doesn't.",
        "Good start. Note one thing about their business you could help with; it makes the next "
        "attempt about them, not about your product.",
    ),
    Situation.VOICEMAIL: (
        "Keep voicemails short and about their world. End with an easy way out (\"if the timing's "
        "wrong, just tell me and I'll stop\"): people answer that line more often than you'd think.",
        "A voicemail works best with one specific reason to call back. Mention something relevant "
        "to their business, not a pitch.",
    ),
    Situation.NO_ANSWER: (
        "No answer isn't a no. Try a different time of day next time, or switch channel: an email "
        "between calls gives them another way to reply.",
        "Busy people miss calls. Vary the hour of your next try, and check the number is still "
        "the right one for the person you want.",
    ),
    Situation.EMAIL: (
        "Make the email about a problem they have, with one clear question. Relevance is what "
        "earns a reply; frequency alone doesn't.",
        "Short, specific and courteous beats long and clever. Give them a graceful way to say "
        '"not now"; it often starts the conversation.',
    ),
    Situation.CALL: (
        "Logged as an attempt. If you spoke to someone, log it as `connected` so Baton stops "
        "counting tries and starts coaching the conversation.",
        "Saying what happened (`vm`, `no-answer`, `connected`…) lets Baton pace the next try "
        "and pick advice that fits it.",
    ),
    Situation.SUGGEST: (
        "A few more tries left before the limit. Double-check you have the right number and the "
        "real decision-maker, and decide now where this lead goes if the next ones don't land.",
        "You're getting close to the attempt limit. Switch it up: a different channel, a different "
        "hour, or a short note that adds something useful.",
    ),
    Situation.INSIST: (
        "That's the attempt limit without a conversation. Put it on the back-burner and circle "
        "back in a few months, or hand it to a colleague who might have a way in.",
        "Enough tries for now. Moving this lead on isn't giving up: it frees you for leads that "
        "will close, and a fresh voice may get through.",
    ),
    Situation.CAP: (
        "That's the hard cap on attempts. Baton has stopped scheduling follow-ups here: "
        "back-burner it and come back next quarter with something new to say.",
    ),
    Situation.CONNECTED: (
        "You got through. Find out who really decides (often more than one person) and ask what "
        "their time frame is; both tell you how hard to push.",
        "Nice. Listen more than you pitch: ask about their situation and what a good outcome looks "
        "like for them, then agree on a concrete next step.",
    ),
    Situation.REPLIED: (
        "They wrote back: answer the same day and try to move it to a call or a meeting.",
        "A reply is an opening. Respond quickly, keep it relevant, and suggest a time to talk.",
    ),
    Situation.MEETING_BOOKED: (
        "Meeting booked. Send a short invite with the agenda today, and ask who else from their "
        "side should be there.",
        "Booked. Tailor it to the pain points you've heard, and have one concrete next step ready "
        "to propose at the end.",
    ),
    Situation.MEETING_HELD: (
        "Send a short recap with the agreed next step today, while it's fresh for both of you.",
        "Good meeting? Confirm who else needs to be involved in the decision and when they expect to decide.",
    ),
    Situation.NOT_INTERESTED: (
        "Leave a good impression: thank them, ask if you may check back later, and close it as "
        "lost or back-burner it so your pipeline stays honest.",
    ),
    Situation.OPT_OUT: (
        "Respect it: Baton won't nudge you about this contact again. A graceful exit keeps the "
        "door open if things change on their side.",
    ),
    Situation.STALLED: (
        "It's gone quiet after a real conversation. That's usually about their world (approvals, "
        "busy season, a reshuffle), not you. Send something useful, not another chase.",
        "Silence after good meetings is common. Be patient: share an article or idea that helps "
        "them, with no ask attached, and give them room.",
    ),
    Situation.PAST_CYCLE: (
        "This lead is older than your sales cycle. Is it still real? Check you're talking to the "
        "decision-maker; if it isn't moving, back-burner it and focus on leads that can close.",
    ),
    Situation.HANDED_TO_NEW_CONTACT: (
        "Being handed on isn't a brush-off. Treat the new person with respect and give them "
        "everything you gave your first contact; find out who really decides and ask about "
        "their time frame.",
        "A new contact may never have heard of you. Start fresh and patiently: they can become "
        "your advocate. Ask who else is involved in the decision.",
    ),
    Situation.MEETING_AHEAD: (
        "With a meeting on the calendar, keep each message short and about the meeting: the "
        "agenda, who's coming, a time that still works. If they haven't confirmed by the morning, "
        "a quick call saves you an empty chair.",
        "A reminder is a courtesy, not a chase: one line with the time and what you'll cover. "
        "Their answer (or silence) tells you early whether the meeting will happen.",
    ),
    Situation.FOLLOWING_UP: (
        "You've spoken before, so make this about what they told you: an answer to their "
        "question, a relevant example, a concrete next step. Never just “checking in”.",
        "They know you now. Give them a reason to reply that helps them, and suggest a specific "
        "time to talk rather than asking when suits.",
    ),
}


@dataclass(frozen=True)
class TipFacts:
    """What the tip rules read about a lead right after a touch was logged."""

    outcome: Outcome
    stage: Stage
    attempts: int  # unanswered tries in the current round
    meeting_booked: bool  # this touch booked a meeting
    meeting_ahead: bool  # a meeting is booked for a later day
    in_conversation: bool  # someone there has answered (ever): the lead is past prospecting
    first_touch: bool  # the first touch ever logged on the lead
    was_stalled: bool
    past_cycle: bool
    last_tip: str | None = None  # `Tip.key` of the tip given with the lead's previous touch
    opted_out: bool = False  # the contact asked not to be contacted: no tip to keep trying, ever


def situations_for(facts: TipFacts) -> Iterator[Situation]:
    """Every situation that fits, the most pressing first; the outcome's own advice comes last."""
    outcome = facts.outcome
    if outcome is Outcome.OPT_OUT or facts.opted_out:
        yield Situation.OPT_OUT
        return
    if outcome is Outcome.NOT_INTERESTED:
        yield Situation.NOT_INTERESTED
        return
    if outcome is Outcome.MEETING:
        yield Situation.MEETING_BOOKED if facts.meeting_booked else Situation.MEETING_HELD
        return
    if outcome is Outcome.CONNECTED:
        yield Situation.CONNECTED
        return
    if outcome is Outcome.REPLIED:
        yield Situation.REPLIED
        return
    if facts.meeting_ahead:
        # The try before a booked meeting is the reminder: prospecting advice would be wrong here.
        yield Situation.MEETING_AHEAD
        return
    if facts.was_stalled:
        yield Situation.STALLED
    if facts.stage is Stage.CAP:
        yield Situation.CAP
    elif facts.stage is Stage.INSIST:
        yield Situation.INSIST
    elif facts.stage is Stage.SUGGEST:
        yield Situation.SUGGEST
    if facts.past_cycle:
        yield Situation.PAST_CYCLE
    if facts.in_conversation:
        yield Situation.FOLLOWING_UP
    elif facts.first_touch and outcome is not Outcome.CALL:
        yield Situation.FIRST_TRY
    yield {
        Outcome.VOICEMAIL: Situation.VOICEMAIL,
        Outcome.NO_ANSWER: Situation.NO_ANSWER,
        Outcome.EMAIL: Situation.EMAIL,
    }.get(outcome, Situation.CALL)


def choose_tip(facts: TipFacts, *, seed: int) -> Tip:
    """The first tip that fits and isn't the one the rep was given on this lead last time.

    `seed` (e.g. the lead id plus its touch count) varies the wording between touches.
    """
    options = [
        tip(situation, seed=seed + shift)
        for situation in situations_for(facts)
        for shift in range(len(TIPS[situation]))
    ]
    return next((option for option in options if option.key != facts.last_tip), options[0])


def tip(situation: Situation, *, seed: int) -> Tip:
    """A tip for the situation; `seed` (e.g. lead id + attempts) varies the wording between touches."""
    variants = TIPS[situation]
    return Tip(situation, variants[seed % len(variants)], seed % len(variants))
