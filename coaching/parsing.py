"""Reading what a rep typed: lead names, outcomes, dates and notes. Pure: no Slack, no SQL, no clock.

Slack delivers command text with `&`, `<` and `>` HTML-escaped (and mentions as `<@U123|jane>`);
`clean` undoes the escaping so names are stored as typed, and the Block Kit layer escapes again on
the way out.

Longer than most modules: names, outcomes, dates and notes are read from the same words in
one pass, each reader deciding what the others may still take; split, they would pass tokens back and forth.
"""

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cached_property

from coaching.calendar import WEEKDAYS
from coaching.rules import Outcome, last_weekday, next_weekday

MAX_LEAD_NAME = 150  # fits a Block Kit header (150 characters) without clipping
MAX_EMAIL, MAX_PHONE = 254, 64  # the contact columns' sizes (254: the longest address SMTP allows)


@dataclass(frozen=True)
class Cleaned:
    text: str
    removed: int  # control characters (NUL and friends) dropped because no database keeps them


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_SURROGATE = re.compile("[\ud800-\udfff]")  # half of a pair: no database or Slack will take it


def scrub(text: str) -> str:
    """Text from a form, cleaned as command text is: no control characters (NUL included), no lone
    surrogates. Slack sends form values unescaped, so nothing is unescaped here."""
    return _SURROGATE.sub("", _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def clean(text: str) -> Cleaned:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    stripped, removed = _CONTROL.subn("", _SURROGATE.sub("", text))
    stripped = stripped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return Cleaned(stripped.strip(), removed)


def printable(text: str) -> str:
    """Text without control characters or half surrogate pairs (what no database or Slack takes), spaces kept."""
    return _CONTROL.sub("", _SURROGATE.sub("", text))


def name_key(name: str) -> str:
    """What two lead names are compared by: case and spacing don't matter, and curly quotes are straight."""
    name = name.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(name.casefold().split())


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int


def words(text: str) -> list[Word]:
    return [Word(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]


OUTCOME_WORDS: dict[str, Outcome] = {
    "call": Outcome.CALL,
    "called": Outcome.CALL,
    "connected": Outcome.CONNECTED,
    "connect": Outcome.CONNECTED,
    "spoke": Outcome.CONNECTED,
    "voicemail": Outcome.VOICEMAIL,
    "vm": Outcome.VOICEMAIL,
    "no-answer": Outcome.NO_ANSWER,
    "noanswer": Outcome.NO_ANSWER,
    "no_answer": Outcome.NO_ANSWER,
    "email": Outcome.EMAIL,
    "emailed": Outcome.EMAIL,
    "e-mail": Outcome.EMAIL,
    "replied": Outcome.REPLIED,
    "reply": Outcome.REPLIED,
    "meeting": Outcome.MEETING,
    "meet": Outcome.MEETING,
    "not-interested": Outcome.NOT_INTERESTED,
    "notinterested": Outcome.NOT_INTERESTED,
    "not_interested": Outcome.NOT_INTERESTED,
    "opt-out": Outcome.OPT_OUT,
    "optout": Outcome.OPT_OUT,
    "opt_out": Outcome.OPT_OUT,
    "opted-out": Outcome.OPT_OUT,
}
OUTCOME_PAIRS: dict[tuple[str, str], Outcome] = {
    ("no", "answer"): Outcome.NO_ANSWER,
    ("not", "interested"): Outcome.NOT_INTERESTED,
    ("opt", "out"): Outcome.OPT_OUT,
}

_DAY_ALIASES: dict[str, int] = {}
for _index, _day in enumerate(WEEKDAYS):
    for _alias in (_day, _day[:3], _day[:4]):
        _DAY_ALIASES[_alias] = _index
_DAY_ALIASES["tues"] = 1
_DAY_ALIASES["thurs"] = 3

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})(?:/(\d{4}))?$")
# Weekday abbreviations that are also English words ("sat down", "wed", "sun"): read as a date
# only where a date can stand, at the end of the text or set off by punctuation, never mid-sentence.
AMBIGUOUS_DAYS = frozenset({"sat", "sun", "wed"})


class DateProblem(StrEnum):
    NOT_A_DATE = "not_a_date"


@dataclass(frozen=True)
class DateWord:
    on: date
    width: int  # how many words it used ("next friday" is two)
    said: str
    relative: bool  # a weekday name, read relative to today: say how it was understood
    weekday: int | None = None  # a bare weekday ("friday"): the last one, or the next one for a meeting
    other: date | None = None  # "3/11" could also be this date: ask which was meant
    # The same words read forwards, as a meeting means them: (on, other).
    ahead: tuple[date, date | None] | None = None


def coming(day: DateWord, today: date) -> DateWord:
    """A date read forwards: a meeting on "friday" is the coming Friday (today included), and one
    on "12/3" is the next 3 December, not last year's."""
    if day.weekday is not None:
        ahead = today + timedelta(days=(day.weekday - today.weekday()) % 7)
        return DateWord(ahead, day.width, day.said, True, day.weekday)
    if day.ahead is not None:
        return DateWord(day.ahead[0], day.width, day.said, False, other=day.ahead[1])
    return day


# How far ahead a slashed date with no year is still read as this year's for a touch: "12/4" typed
# on 1 December is 4 December of this year (then asked about, as "2026-12-04" is: only a meeting can
# be ahead), not the 4 December eleven months before the lead existed.
NEAR_AHEAD = timedelta(days=31)


def _slashed(month: int, dom: int, year: int | None, today: date, *, forward: bool) -> date | None:
    """The date with no year given: for a touch this year's, unless that is more than a month
    ahead (then last year's); for a meeting (`forward`) the first one on or after today."""
    try:
        if year is not None:
            return date(year, month, dom)
        this_year = date(today.year, month, dom)
    except ValueError:
        return None
    if (this_year >= today) if forward else (this_year <= today + NEAR_AHEAD):
        return this_year
    try:
        return date(today.year + (1 if forward else -1), month, dom)
    except ValueError:  # 29 February
        return this_year


def read_date(ws: Sequence[Word], today: date) -> DateWord | DateProblem | None:
    """A date at the start of `ws`, if there is one."""
    if not ws:
        return None
    first = ws[0].text.casefold().rstrip(",.")
    if first == "today":
        return DateWord(today, 1, ws[0].text, False)
    if first == "yesterday":
        return DateWord(today - timedelta(days=1), 1, ws[0].text, False)
    if first == "tomorrow":
        return DateWord(today + timedelta(days=1), 1, ws[0].text, False)
    if first in _DAY_ALIASES:
        if first in AMBIGUOUS_DAYS and len(ws) > 1 and not ws[0].text.endswith((",", ".", ":", ";")):
            return None  # "sat down with", "wed them to" — words, not dates
        weekday = _DAY_ALIASES[first]
        return DateWord(last_weekday(today, weekday), 1, ws[0].text, True, weekday)
    if first in ("last", "next") and len(ws) > 1:
        second = ws[1].text.casefold().rstrip(",.")
        if second in _DAY_ALIASES:
            said = f"{ws[0].text} {ws[1].text}"
            if first == "next":
                return DateWord(next_weekday(today, _DAY_ALIASES[second]), 2, said, True)
            back = last_weekday(today - timedelta(days=1), _DAY_ALIASES[second])
            return DateWord(back, 2, said, True)
    match = _ISO.match(first)
    if match:
        try:
            return DateWord(date(*(int(part) for part in match.groups())), 1, ws[0].text, False)
        except ValueError:
            return DateProblem.NOT_A_DATE
    slashed = _SLASHED.match(first)
    if slashed:
        a, b = int(slashed.group(1)), int(slashed.group(2))
        year = int(slashed.group(3)) if slashed.group(3) else None
        readings = []
        for forward in (False, True):
            month_first = _slashed(a, b, year, today, forward=forward)  # 11/27
            day_first = _slashed(b, a, year, today, forward=forward)  # 27/11
            if month_first is None or month_first == day_first:
                month_first, day_first = day_first, None
            readings.append((month_first, day_first))
        (on, other), (later, later_other) = readings
        if on is None or later is None:
            return DateProblem.NOT_A_DATE
        return DateWord(on, 1, ws[0].text, False, other=other, ahead=(later, later_other))
    return None


# How close a word must be to an outcome to be asked about rather than taken as the note.
OUTCOME_LIKENESS = 0.8


def near_outcome(ws: Sequence[Word]) -> tuple[Outcome, int] | None:
    """A misspelt outcome at the start ("voicmail", "no answr", "conected"): the outcome it looks
    like and how many words it spans. Baton asks about it; it never logs it as something else."""
    if not ws:
        return None
    first = ws[0].text.casefold().rstrip(",.:")
    if len(ws) > 1:
        pair = f"{first} {ws[1].text.casefold().rstrip(',.:')}"
        for (one, two), outcome in OUTCOME_PAIRS.items():
            if difflib.SequenceMatcher(None, pair, f"{one} {two}").ratio() >= OUTCOME_LIKENESS:
                return outcome, 2
    if len(first) < 4:
        return None  # short words ("can", "cal") are too easily something else
    # A slip of the keyboard keeps the first letter and about the length: "interested" is not
    # "not-interested" and "mailed" is not "emailed". A call is no outcome at all, so it's never guessed.
    likely = [
        word
        for word, outcome in OUTCOME_WORDS.items()
        if outcome is not Outcome.CALL and word[0] == first[0] and abs(len(word) - len(first)) <= 2
    ]
    scored = [(difflib.SequenceMatcher(None, first, word).ratio(), word) for word in likely]
    if scored and (best := max(scored))[0] >= OUTCOME_LIKENESS:
        return OUTCOME_WORDS[best[1]], 1
    return None


def read_outcome(ws: Sequence[Word]) -> tuple[Outcome, int] | None:
    if not ws:
        return None
    first = ws[0].text.casefold().rstrip(",.:")
    if len(ws) > 1:
        pair = (first, ws[1].text.casefold().rstrip(",.:"))
        if pair in OUTCOME_PAIRS:
            return OUTCOME_PAIRS[pair], 2
    if first in OUTCOME_WORDS:
        return OUTCOME_WORDS[first], 1
    return None


def is_keyword_start(ws: Sequence[Word], today: date) -> bool:
    return read_outcome(ws) is not None or read_date(ws, today) is not None


@dataclass(frozen=True)
class TouchDetails:
    outcome: Outcome | None
    on: DateWord | None
    note: str
    # A word that looks like a misspelt outcome, where the outcome would stand: (what was typed, its
    # likeliest outcome). Only set when no outcome was read; the rep is asked before anything is logged.
    maybe: tuple[str, Outcome] | None = None


@dataclass(frozen=True)
class BadDate:
    said: str


def read_touch_details(
    rest: str, today: date, *, misspelt_as: Outcome | None = None
) -> TouchDetails | BadDate:
    """`[OUTCOME] [DATE] [NOTE…]`, outcome and date in either order; the note keeps its line breaks.

    A bare weekday is the last one, or the coming one when the touch is a meeting. With
    `misspelt_as`, a misspelt outcome the rep has confirmed is read as that outcome.
    """
    ws = words(rest)
    outcome: Outcome | None = None
    on: DateWord | None = None
    maybe: tuple[str, Outcome] | None = None
    used = 0
    for _ in range(2):
        tail = ws[used:]
        if outcome is None and (found := read_outcome(tail)) is not None:
            outcome, width = found
            used += width
            continue
        if on is None:
            when = read_date(tail, today)
            if when is DateProblem.NOT_A_DATE:
                return BadDate(tail[0].text)
            if isinstance(when, DateWord):
                on = when
                used += when.width
                continue
        if outcome is None and maybe is None and (near := near_outcome(tail)) is not None:
            guess, width = near
            if misspelt_as is not None:
                outcome = misspelt_as
                used += width
                continue
            maybe = (" ".join(w.text for w in tail[:width]), guess)
        break
    if outcome is Outcome.MEETING and on is not None:
        on = coming(on, today)
    note = rest[ws[used].start :].strip() if used < len(ws) else ""
    return TouchDetails(outcome, on, note, maybe if outcome is None else None)


# ---- lead names ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    lead_id: int
    name: str
    status: str
    owner_id: str

    @cached_property
    def key(self) -> str:
        return name_key(self.name)


class MatchKind(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    WORD = "word"  # the typed text starts a later word of the name ("globex" for "The Globex Co")
    NONE = "none"


@dataclass(frozen=True)
class LeadMatch:
    kind: MatchKind
    leads: tuple[Candidate, ...]
    lead_text: str  # what the rep typed for the lead
    rest: str  # everything after it, untouched


def leading_keys(text: str, count: int = 2) -> list[str]:
    """The first words typed, as keys: every candidate's name contains the first one, which lets
    SQL narrow the search before matching here (and the first two, when one is too common)."""
    ws = words(text.lstrip('"\u201c'))[:count]
    return [name_key(w.text.strip('"\u201c\u201d')) for w in ws if w.text.strip('"\u201c\u201d')]


def split_lead(text: str, candidates: Iterable[Candidate], today: date) -> LeadMatch:
    """Find where the lead name ends in `text` and which leads it names.

    A quoted name is taken as written. Otherwise the longest run of leading words that names a lead
    wins ("acme corp vm" is Acme Corporation, not Acme with a note); at the same length an exact
    name beats the start of a name, which beats a later word of one. Case never matters.
    """
    pool = list(candidates)
    quoted = re.match(r'^\s*["\u201c]([^"\u201d]*)["\u201d]?', text)
    if quoted:
        lead_text = quoted.group(1).strip()
        rest = text[quoted.end() :].strip()
        kind, leads = _best(name_key(lead_text), pool)
        return LeadMatch(kind, leads, lead_text, rest)

    ws = words(text)
    for k in range(len(ws), 0, -1):
        for tier in (MatchKind.EXACT, MatchKind.PREFIX, MatchKind.WORD):
            leads = _matching(tier, name_key(text[: ws[k - 1].end]), pool)
            if leads:
                if tier is MatchKind.PREFIX:
                    leads, k = _absorb_typos(ws, k, leads, today)
                return LeadMatch(tier, leads, text[: ws[k - 1].end].strip(), text[ws[k - 1].end :].strip())
    # Nothing matched: guess where the name ends (before the first outcome or date word)
    # so the reply can quote it and suggest the closest names.
    cut = next((i for i in range(1, len(ws)) if is_keyword_start(ws[i:], today)), len(ws))
    lead_text = text[: ws[cut - 1].end].strip() if ws else ""
    rest = text[ws[cut - 1].end :].strip() if ws else ""
    return LeadMatch(MatchKind.NONE, (), lead_text, rest)


def _absorb_typos(
    ws: Sequence[Word], k: int, leads: tuple[Candidate, ...], today: date
) -> tuple[tuple[Candidate, ...], int]:
    """Extend a partial match over following words that misspell the rest of a lead's name.

    "acme crop no-answer" starts "Acme Corp" with "acme" only; "crop" is the rest of the name
    misspelt, not the start of the note, so the outcome after it is still read. When several
    leads start the same way, the one whose name the following words continue is the one meant.
    """
    extended = [(lead, _continues(ws, k, lead, today)) for lead in leads]
    longer = [(lead, width) for lead, width in extended if width > k]
    if len(longer) == 1:
        return (longer[0][0],), longer[0][1]
    return leads, k


def _continues(ws: Sequence[Word], k: int, lead: Candidate, today: date) -> int:
    typed = name_key(" ".join(w.text for w in ws[:k]))
    if not lead.key.startswith(typed + " "):
        return k
    remaining = lead.key[len(typed) :].split()
    best = k
    for extra in range(1, len(remaining) + 1):
        following = ws[k : k + extra]
        if len(following) < extra or is_keyword_start(following, today):
            break
        said = name_key(" ".join(w.text for w in following))
        if difflib.SequenceMatcher(None, said, " ".join(remaining[:extra])).ratio() >= 0.75:
            best = k + extra
    return best


def _best(key: str, pool: Sequence[Candidate]) -> tuple[MatchKind, tuple[Candidate, ...]]:
    for tier in (MatchKind.EXACT, MatchKind.PREFIX, MatchKind.WORD):
        leads = _matching(tier, key, pool)
        if leads:
            return tier, leads
    return MatchKind.NONE, ()


def _matching(tier: MatchKind, key: str, pool: Sequence[Candidate]) -> tuple[Candidate, ...]:
    if not key:
        return ()
    if tier is MatchKind.EXACT:
        found = [c for c in pool if c.key == key]
    elif tier is MatchKind.PREFIX:
        found = [c for c in pool if c.key.startswith(key)]
    else:
        found = [c for c in pool if f" {key}" in f" {c.key}" and not c.key.startswith(key)]
    # Open leads first, then by name: the one a rep most likely means leads the list.
    return tuple(sorted(found, key=lambda c: (c.status != "open", c.key)))


CLOSE = 0.6


def closest(lead_text: str, names: Iterable[str], *, limit: int = 3) -> list[str]:
    """The lead names that look most like what was typed (typos, missing words)."""
    key = name_key(lead_text)
    if not key:
        return []
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(name_key(name), name)
    # As difflib.get_close_matches does: the typed text is seq2 (analysed once), and the cheap
    # upper bounds rule most names out before the full ratio is computed.
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(key)
    scored = []
    for candidate_key, name in by_key.items():
        score = 0.0
        # The whole name, and its start the length of what was typed ("acme" finds "acme corporation").
        for seq1, weight in ((candidate_key, 1.0), (candidate_key[: len(key)], 0.9)):
            matcher.set_seq1(seq1)
            if matcher.real_quick_ratio() * weight >= CLOSE and matcher.quick_ratio() * weight >= CLOSE:
                score = max(score, matcher.ratio() * weight)
        if score >= CLOSE:
            scored.append((score, name))
    scored.sort(key=lambda item: (-item[0], item[1].casefold()))
    return [name for _, name in scored[:limit]]


# ---- contacts: PERSON [role] [dm] ------------------------------------------------------------

# Job titles that start the role part of "Jane Doe VP Sales".
_TITLES = (
    "ceo cfo cto coo cmo cio cro ciso cpo vp svp evp avp director head manager president founder "
    "co-founder cofounder owner partner chief lead principal buyer procurement purchasing gm "
    "controller treasurer counsel engineer architect analyst consultant assistant secretary "
    "coordinator officer administrator admin chair chairman chairwoman"
)
TITLE_WORDS = frozenset(_TITLES.split())
DECISION_MAKER_WORDS = ("dm", "decision-maker", "decisionmaker", "decides")


@dataclass(frozen=True)
class ContactWords:
    person: str
    role: str | None
    decision_maker: bool
    email: str | None = None
    phone: str | None = None
    split_given: bool = False  # the rep split name from role (quotes, a comma, "as"): nothing was guessed


# Slack sends a typed address or number as a link when the command escapes: <mailto:a@b.c|a@b.c>.
_LINK = re.compile(r"<(?:mailto|tel):([^|>]+)(?:\|([^>]*))?>")
EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number: an optional +, then digits with the spaces, dots, dashes and brackets people type.
PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]*\d(?:\s*(?:x|ext\.?)\s*\d+)?(?!\w)")
PHONE_DIGITS = 7  # fewer is a number in a role ("Team 42"), not a phone


def find_email(text: str) -> str | None:
    match = EMAIL.search(_unlink(text))
    return match.group().rstrip(".") if match else None


def find_phone(text: str) -> str | None:
    match = _phone(_unlink(text))
    return " ".join(match.group().split()) if match else None


def _phone(text: str) -> re.Match[str] | None:
    return next(
        (m for m in PHONE.finditer(text) if sum(c.isdigit() for c in m.group()) >= PHONE_DIGITS), None
    )


def _unlink(text: str) -> str:
    return _LINK.sub(lambda m: m.group(2) or m.group(1), text)


def read_contact(rest: str) -> ContactWords:
    """Split `Jane Doe CFO jane@acme.com +1 555 0100 dm` into person, role, e-mail, phone and
    the decision-maker flag.

    The e-mail and phone are found wherever they are typed and taken out first. A comma or the
    word "as" separates name from role when given ("Jane Doe, Head of Ops"); otherwise the role
    starts at the first job-title word. The reply shows how it was read.
    """
    text = _unlink(rest)
    email = find_email(text)
    if email:
        text = text.replace(email, " ", 1)
    phone_match = _phone(text)
    phone = " ".join(phone_match.group().split()) if phone_match else None
    if phone_match:
        text = text[: phone_match.start()] + " " + text[phone_match.end() :]
    text = " ".join(text.split()).strip(" ,;")
    decision_maker = False
    lowered = text.casefold()
    for marker in ("decision maker", *DECISION_MAKER_WORDS):
        if lowered.endswith(" " + marker) or lowered == marker:
            decision_maker = True
            text = text[: len(text) - len(marker)].rstrip(" ,;")
            break
    person, role, split_given = _person_and_role(text)
    return ContactWords(person, role, decision_maker, email, phone, split_given)


def _person_and_role(text: str) -> tuple[str, str | None, bool]:
    """(person, role, whether the rep marked the split: quotes, a comma or "as")."""
    quoted = re.match(r'^["\u201c]([^"\u201d]+)["\u201d]\s*(.*)$', text)
    if quoted:
        return quoted.group(1).strip(), quoted.group(2).strip(" ,") or None, True
    if "," in text:
        person, role = text.split(",", 1)
        return person.strip(), role.strip(" ,") or None, True
    as_split = re.split(r"\s+as\s+", text, maxsplit=1, flags=re.IGNORECASE)
    if len(as_split) == 2:
        return as_split[0].strip(), as_split[1].strip() or None, True
    ws = words(text)
    for index in range(1, len(ws)):
        if ws[index].text.casefold().strip(".,") in TITLE_WORDS:
            return text[: ws[index].start].strip(), text[ws[index].start :].strip(), False
    return text, None, False


# ---- people ---------------------------------------------------------------------------------------

MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>")


def mentioned(text: str) -> list[str]:
    """Slack user ids mentioned in command text (`should_escape: true` sends `<@U123|jane>`)."""
    return MENTION.findall(text)


def read_mention(text: str) -> tuple[str, str] | None:
    """A mention at the start of `text`, and what follows it."""
    match = MENTION.match(text.strip())
    if match is None:
        return None
    return match.group(1), text.strip()[match.end() :].strip()
