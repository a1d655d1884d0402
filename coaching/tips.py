"""The coach's voice: one short tip per situation, chosen by pure rules.

Written in Baton's own words from the ideas in the sales articles: persistence without pushiness,
add value instead of chasing, respect an opt-out, remind before meetings, find the real
decision-maker, and winnow leads that have outlived the sales cycle.
"""

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


@dataclass(frozen=True)
class Tip:
    situation: Situation
    text: str


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
        "Meeting booked. Baton will nudge you the day before to send a reminder: it's a "
        "professional courtesy and it tells you early if it's going to be a no-show.",
        "Booked. Tailor the demo to the pain points you've heard; Baton will remind you to confirm "
        "with them the day before.",
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
}


def situation_for(
    outcome: Outcome,
    *,
    stage: Stage,
    attempts: int,
    meeting_booked: bool,
    was_stalled: bool,
    past_cycle: bool,
) -> Situation:
    """Pick the one situation worth coaching after a touch. Order matters: the most pressing first."""
    if outcome is Outcome.OPT_OUT:
        return Situation.OPT_OUT
    if outcome is Outcome.NOT_INTERESTED:
        return Situation.NOT_INTERESTED
    if outcome is Outcome.MEETING:
        return Situation.MEETING_BOOKED if meeting_booked else Situation.MEETING_HELD
    if outcome is Outcome.CONNECTED:
        return Situation.CONNECTED
    if outcome is Outcome.REPLIED:
        return Situation.REPLIED
    if was_stalled:
        return Situation.STALLED
    if stage is Stage.CAP:
        return Situation.CAP
    if stage is Stage.INSIST:
        return Situation.INSIST
    if stage is Stage.SUGGEST:
        return Situation.SUGGEST
    if past_cycle:
        return Situation.PAST_CYCLE
    if attempts == 1 and outcome is not Outcome.CALL:
        return Situation.FIRST_TRY
    return {
        Outcome.VOICEMAIL: Situation.VOICEMAIL,
        Outcome.NO_ANSWER: Situation.NO_ANSWER,
        Outcome.EMAIL: Situation.EMAIL,
    }.get(outcome, Situation.CALL)


def tip(situation: Situation, *, seed: int) -> Tip:
    """A tip for the situation; `seed` (e.g. lead id + attempts) varies the wording between touches."""
    variants = TIPS[situation]
    return Tip(situation, variants[seed % len(variants)])
