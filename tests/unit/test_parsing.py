"""Reading what reps type: lead names, outcomes, dates, notes and contacts."""

from datetime import date

import pytest

from coaching.parsing import (
    BadDate,
    Candidate,
    MatchKind,
    TouchDetails,
    clean,
    closest,
    leading_keys,
    name_key,
    read_contact,
    read_touch_details,
    split_lead,
)
from coaching.rules import Outcome

TODAY = date(2026, 11, 23)  # a Monday
LEADS = [
    Candidate(1, "Acme Corp", "open", "U1"),
    Candidate(2, "Acme Logistics", "open", "U1"),
    Candidate(3, "Globex Corporation", "open", "U2"),
    Candidate(4, "The Initech Company", "open", "U2"),
    Candidate(5, "Umbrella", "won", "U1"),
    Candidate(6, "Umbrella Health", "open", "U1"),
]


def split(text: str):
    return split_lead(text, LEADS, TODAY)


def details(rest: str) -> TouchDetails:
    result = read_touch_details(rest, TODAY)
    assert isinstance(result, TouchDetails)
    return result


# ---- lead names -------------------------------------------------------------------------------------


def test_the_full_name_in_any_case_finds_the_lead() -> None:
    match = split("ACME corp voicemail")
    assert [lead.lead_id for lead in match.leads] == [1]
    assert match.kind is MatchKind.EXACT
    assert match.rest == "voicemail"


def test_a_unique_start_of_the_name_is_enough() -> None:
    match = split("glob no-answer")
    assert [lead.name for lead in match.leads] == ["Globex Corporation"]
    assert match.lead_text == "glob"
    assert match.kind is MatchKind.PREFIX


def test_a_start_shared_by_two_leads_is_ambiguous() -> None:
    match = split("acme vm")
    assert {lead.lead_id for lead in match.leads} == {1, 2}


def test_the_longest_exact_name_wins_over_a_shorter_one() -> None:
    assert [lead.lead_id for lead in split("umbrella health replied").leads] == [6]
    assert [lead.lead_id for lead in split("umbrella replied").leads] == [5]


def test_a_later_word_of_the_name_is_found_when_no_name_starts_with_it() -> None:
    match = split("initech connected")
    assert [lead.lead_id for lead in match.leads] == [4]
    assert match.kind is MatchKind.WORD


def test_a_quoted_name_is_taken_as_written() -> None:
    match = split('"Acme Corp" email yesterday sent the case study')
    assert [lead.lead_id for lead in match.leads] == [1]
    assert match.rest == "email yesterday sent the case study"


def test_a_misspelt_end_of_the_name_is_not_mistaken_for_the_note() -> None:
    match = split("acme corpp no-answer")
    assert [lead.lead_id for lead in match.leads] == [1]
    assert match.rest == "no-answer"


def test_an_unknown_name_ends_before_the_first_outcome_word() -> None:
    match = split("Initrode Global voicemail left a message")
    assert match.kind is MatchKind.NONE
    assert match.lead_text == "Initrode Global"
    assert match.rest == "voicemail left a message"


def test_the_closest_names_are_suggested_for_a_typo() -> None:
    names = [lead.name for lead in LEADS]
    assert closest("Acme Crop", names)[0] == "Acme Corp"
    assert closest("globx", names) == ["Globex Corporation"]
    assert closest("zzzz", names) == []


def test_names_compare_without_case_spacing_or_curly_quotes() -> None:
    assert name_key("  O\u2019Reilly   MEDIA ") == name_key("o'reilly media")


def test_the_search_key_is_the_first_word_typed() -> None:
    assert leading_keys('"Acme Corp" vm') == ["acme", "corp"]
    assert leading_keys("  Globex  ") == ["globex"]
    assert leading_keys("") == []


# ---- outcomes, dates, notes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("connected", Outcome.CONNECTED),
        ("vm", Outcome.VOICEMAIL),
        ("VOICEMAIL", Outcome.VOICEMAIL),
        ("no-answer", Outcome.NO_ANSWER),
        ("no answer", Outcome.NO_ANSWER),
        ("email", Outcome.EMAIL),
        ("replied", Outcome.REPLIED),
        ("meeting", Outcome.MEETING),
        ("not-interested", Outcome.NOT_INTERESTED),
        ("not interested", Outcome.NOT_INTERESTED),
        ("opt-out", Outcome.OPT_OUT),
    ],
)
def test_every_outcome_word_is_understood(typed: str, outcome: Outcome) -> None:
    assert details(f"{typed} some note").outcome is outcome
    assert details(f"{typed} some note").note == "some note"


def test_without_an_outcome_the_whole_text_is_the_note() -> None:
    result = details("talked about pricing")
    assert result.outcome is None
    assert result.note == "talked about pricing"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("today", TODAY),
        ("yesterday", date(2026, 11, 22)),
        ("friday", date(2026, 11, 20)),
        ("monday", TODAY),
        ("thurs", date(2026, 11, 19)),
        ("last monday", date(2026, 11, 16)),
        ("next tuesday", date(2026, 11, 24)),
        ("2026-11-18", date(2026, 11, 18)),
        ("2026-12-02", date(2026, 12, 2)),
    ],
)
def test_dates_are_read_relative_to_the_reps_today(typed: str, expected: date) -> None:
    result = details(f"connected {typed} talked to the CFO")
    assert result.on is not None and result.on.on == expected
    assert result.note == "talked to the CFO"


def test_outcome_and_date_may_come_in_either_order() -> None:
    first = details("yesterday email sent the deck")
    second = details("email yesterday sent the deck")
    assert (first.outcome, first.on and first.on.on, first.note) == (
        second.outcome,
        second.on and second.on.on,
        second.note,
    )


def test_a_bare_weekday_is_the_last_one_but_the_coming_one_for_a_meeting() -> None:
    wednesday = date(2026, 11, 25)
    met = read_touch_details("meeting friday pricing", wednesday)
    called = read_touch_details("connected friday pricing", wednesday)
    assert isinstance(met, TouchDetails) and isinstance(called, TouchDetails)
    assert met.on is not None and met.on.on == date(2026, 11, 27)  # this Friday, not last week's
    assert called.on is not None and called.on.on == date(2026, 11, 20)
    before = read_touch_details("friday meeting", wednesday)
    assert isinstance(before, TouchDetails) and before.on is not None and before.on.on == date(2026, 11, 27)


def test_weekday_words_that_are_english_are_dates_only_where_a_date_can_stand() -> None:
    sat_down = details("connected sat down with the CFO")
    assert sat_down.on is None and sat_down.note == "sat down with the CFO"
    assert details("vm sat").on is not None
    assert details("vm sat, left a message").on is not None
    assert details("wed them to the plan").on is None


@pytest.mark.parametrize(
    ("typed", "guess"),
    [("voicmail", Outcome.VOICEMAIL), ("no answr", Outcome.NO_ANSWER), ("conected", Outcome.CONNECTED)],
)
def test_a_word_close_to_an_outcome_is_asked_about_not_logged_as_something_else(
    typed: str, guess: Outcome
) -> None:
    result = details(f"{typed} yesterday left a msg")
    assert result.outcome is None
    assert result.maybe == (typed, guess)
    confirmed = read_touch_details(f"{typed} yesterday left a msg", TODAY, misspelt_as=guess)
    assert isinstance(confirmed, TouchDetails) and confirmed.outcome is guess
    assert confirmed.on is not None and confirmed.on.on == date(2026, 11, 22)
    assert confirmed.note == "left a msg"


def test_plain_words_are_not_taken_for_outcomes() -> None:
    for note in (
        "talked about pricing",
        "cancelled",
        "calling back later",
        "mailed the brochure",
        "interested",
    ):
        assert details(note).maybe is None, note


def test_month_day_and_day_month_are_read_and_an_ambiguous_one_is_asked() -> None:
    for typed in ("11/20", "20/11"):
        result = details(f"connected {typed} hi")
        assert result.on is not None and result.on.on == date(2026, 11, 20) and result.on.other is None
    both = details("connected 3/11 hi")
    assert both.on is not None and {both.on.on, both.on.other} == {date(2026, 3, 11), date(2026, 11, 3)}
    meeting = details("meeting 12/3 demo")  # a meeting reads forwards
    assert meeting.on is not None and {meeting.on.on, meeting.on.other} == {
        date(2026, 12, 3),
        date(2027, 3, 12),
    }
    assert read_touch_details("connected 13/13 hi", TODAY) == BadDate("13/13")


def test_an_impossible_date_is_reported_not_guessed() -> None:
    assert read_touch_details("connected 2026-02-30 hi", TODAY) == BadDate("2026-02-30")


def test_the_note_keeps_its_line_breaks_and_spacing() -> None:
    assert details("vm first line\n  second line").note == "first line\n  second line"


def test_clean_undoes_slacks_escaping_and_drops_control_characters() -> None:
    cleaned = clean("AT&amp;T &lt;b&gt; a\x00b\x07c\r\nnext")
    assert cleaned.text == "AT&T <b> abc\nnext"
    assert cleaned.removed == 2


# ---- contacts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "person", "role", "dm"),
    [
        ("Jane Doe CFO dm", "Jane Doe", "CFO", True),
        ("Jane Doe", "Jane Doe", None, False),
        ("Jane Doe, Head of Operations", "Jane Doe", "Head of Operations", False),
        (
            "Jane van der Berg as Procurement lead decision-maker",
            "Jane van der Berg",
            "Procurement lead",
            True,
        ),
        ('"Mary Ann Smith" VP Sales', "Mary Ann Smith", "VP Sales", False),
        ("Bob Director of IT", "Bob", "Director of IT", False),
    ],
)
def test_contacts_split_into_person_role_and_decision_maker(
    typed: str, person: str, role: str | None, dm: bool
) -> None:
    words = read_contact(typed)
    assert (words.person, words.role, words.decision_maker) == (person, role, dm)


@pytest.mark.parametrize(
    ("typed", "person", "role", "email", "phone", "dm"),
    [
        (
            "Jane Doe, VP Sales jane@acme.com +1 555 0100 dm",
            "Jane Doe",
            "VP Sales",
            "jane@acme.com",
            "+1 555 0100",
            True,
        ),
        # With should_escape, Slack sends a typed address as a mailto link.
        (
            "Jane Doe <mailto:jane@acme.com|jane@acme.com> CFO",
            "Jane Doe",
            "CFO",
            "jane@acme.com",
            None,
            False,
        ),
        ("Bob Smith (555) 010-0199 x12", "Bob Smith", None, None, "(555) 010-0199 x12", False),
        ("Pat Lee, Team 42 lead", "Pat Lee", "Team 42 lead", None, None, False),  # too short for a phone
    ],
)
def test_a_contact_line_gives_up_its_e_mail_and_phone_wherever_they_are_typed(
    typed: str, person: str, role: str | None, email: str | None, phone: str | None, dm: bool
) -> None:
    words = read_contact(typed)
    assert (words.person, words.role, words.email, words.phone, words.decision_maker) == (
        person,
        role,
        email,
        phone,
        dm,
    )


def test_a_longer_match_beats_a_shorter_exact_name() -> None:
    leads = [Candidate(1, "Acme", "open", "U1"), Candidate(2, "Acme Corporation", "open", "U1")]
    match = split_lead("acme corp vm", leads, TODAY)
    assert [lead.lead_id for lead in match.leads] == [2]
    assert match.rest == "vm"
    assert [lead.lead_id for lead in split_lead("acme vm", leads, TODAY).leads] == [1]
