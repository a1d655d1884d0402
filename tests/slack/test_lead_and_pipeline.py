"""/lead and /pipeline as reps and managers use them."""

from datetime import timedelta

from sqlalchemy import select

from handlers.blocks.ids import Action
from store.models import Contact, Lead
from tests.conftest import DANA, MORGAN, SAM, Harness, flatten


def status(h: Harness, name: str) -> str:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead.status).where(Lead.name == name)).one()


# ---- /lead -----------------------------------------------------------------------------------------


def test_show_gives_owner_status_contacts_attempts_touches_and_history(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/lead", "contact acme Jane Doe CFO dm")
    harness.command(DANA, "/logcall", "acme vm left a message")
    harness.clock.advance(days=4)
    harness.command(DANA, "/logcall", "acme email sent the case study")
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    assert "Acme Corp" in card
    assert "<@U0DANA>" in card
    assert "Jane Doe, CFO · *decision-maker*" in card
    assert "Attempt 2 of 8" in card
    assert "sent the case study" in card and "left a message" in card
    assert "Next follow-up *Sat 1 Dec*" in card or "Next follow-up" in card


def test_a_lead_name_alone_shows_the_lead(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Globex")
    assert "Globex" in flatten(harness.command(DANA, "/lead", "globex").blocks)


def test_won_lost_backburner_and_reopen_move_the_lead_and_say_so(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    assert "is won" in flatten(harness.command(DANA, "/lead", "won acme").blocks)
    assert status(harness, "Acme Corp") == "won"
    assert "already won" in flatten(harness.command(DANA, "/lead", "won acme").blocks)
    assert "open again" in flatten(harness.command(DANA, "/lead", "reopen acme").blocks)
    reply = harness.command(DANA, "/lead", "lost acme chose a competitor")
    assert "closed as lost" in flatten(reply.blocks) and "chose a competitor" in flatten(reply.blocks)
    harness.command(DANA, "/lead", "reopen acme")
    harness.command(DANA, "/lead", "backburner acme")
    assert status(harness, "Acme Corp") == "backburner"


def test_the_undo_button_reopens_a_lead_closed_by_mistake(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    closed = harness.command(DANA, "/lead", "lost acme")
    reopened = harness.click(DANA, closed, Action.LEAD_REOPEN)
    assert "open again" in flatten(reopened.blocks)
    assert status(harness, "Acme Corp") == "open"


def test_someone_elses_lead_cant_be_closed_but_a_manager_can_close_it(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    refused = flatten(harness.command(SAM, "/lead", "won acme").blocks)
    assert "only they or a manager" in refused
    assert status(harness, "Acme Corp") == "open"
    harness.command(MORGAN, "/lead", "won acme")
    assert status(harness, "Acme Corp") == "won"


def test_a_contact_is_saved_with_how_the_line_was_read(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    reply = flatten(harness.command(DANA, "/lead", "contact acme corp Mary Ann Smith VP Sales dm").blocks)
    assert "Read as person “Mary Ann Smith”, role “VP Sales”, decision-maker" in reply
    with harness.db.readers.begin() as session:
        contact = session.scalars(select(Contact)).one()
    assert (contact.name, contact.role, contact.is_decision_maker) == ("Mary Ann Smith", "VP Sales", True)


def test_opting_out_stops_every_follow_up(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    assert "opted out" in flatten(harness.command(DANA, "/lead", "optout acme").blocks)
    with harness.db.readers.begin() as session:
        lead = session.scalars(select(Lead)).one()
    assert lead.opted_out_at is not None and lead.next_follow_up is None
    pipeline = flatten(harness.command(DANA, "/pipeline").blocks)
    assert "opted out" in pipeline


def test_an_opt_out_is_said_once_and_a_new_contact_is_how_it_is_lifted(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    opted = flatten(harness.command(DANA, "/lead", "optout acme").blocks)
    assert "asked not to be contacted" in opted and "`/handoff LEAD contact NAME`" in opted
    logged = flatten(harness.command(DANA, "/logcall", "acme voicemail left a message").blocks)
    assert logged.count("asked not to be contacted") == 1 and ":bulb:" not in logged
    assert "Don't reach out again unless they get in touch first" in logged
    assert "check with them" not in logged  # that would mean contacting someone who asked not to be
    handed = flatten(harness.command(DANA, "/handoff", "acme contact Raj Patel Procurement").blocks)
    assert "opt-out no longer stops Baton's nudges: this is a new person" in handed
    with harness.db.readers.begin() as session:
        assert session.scalars(select(Lead.opted_out_at)).one() is None


def test_the_card_lists_each_contact_once(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/lead", "contact acme Jane Doe, CFO dm")
    harness.command(DANA, "/lead", "contact acme Bob Smith, Ops Manager")
    harness.command(DANA, "/lead", "contact acme Ann Lee, Analyst")
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    for person in ("Jane Doe", "Bob Smith", "Ann Lee"):
        assert card.count(person) == 1, card
    assert "*Talking to*\nJane Doe, CFO · *decision-maker*\nAnn Lee, Analyst" in card
    assert "*Other contacts*\n• Bob Smith, Ops Manager" in card


def test_a_mis_split_contact_is_removed_and_saved_again_leaving_no_duplicate(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(
        DANA, "/lead", "contact acme Joanna Smith office manager"
    )  # read as "Joanna Smith office"
    harness.command(DANA, "/lead", "contact acme Joanna Smith, office manager")
    assert "Joanna Smith office" in flatten(harness.command(DANA, "/lead", "show acme").blocks)
    refused = flatten(harness.command(SAM, "/lead", "uncontact acme Joanna Smith office").blocks)
    assert "Only the lead's owner or a manager" in refused
    wrong = flatten(harness.command(DANA, "/lead", "uncontact acme Joan Smith").blocks)
    assert "has no contact called “Joan Smith”" in wrong and "“Joanna Smith office”" in wrong
    removed = flatten(harness.command(DANA, "/lead", "uncontact acme Joanna Smith office").blocks)
    assert "Removed Joanna Smith office from *Acme Corp*'s contacts" in removed
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    assert "*Talking to*\nJoanna Smith, office manager" in card and "Joanna Smith office" not in card


def test_find_lists_matching_leads_with_show_buttons(harness: Harness) -> None:
    for name in ("Acme Corp", "Acme Logistics", "Globex"):
        harness.command(DANA, "/lead", f"add {name}")
    reply = harness.command(DANA, "/lead", "find acme")
    assert "Acme Corp" in flatten(reply.blocks) and "Globex" not in flatten(reply.blocks)
    shown = harness.click(DANA, reply, Action.LEAD_SHOW)
    assert "History" in flatten(shown.blocks)


def test_help_and_unknown_subcommands_explain_the_usage(harness: Harness) -> None:
    assert "/lead add Acme Corp" in flatten(harness.command(DANA, "/lead").blocks)
    assert "/lead add Acme Corp" in flatten(harness.command(DANA, "/lead", "help").blocks)
    unknown = flatten(harness.command(DANA, "/lead", "frobnicate").blocks)
    assert "couldn't find a lead called “frobnicate”" in unknown


# ---- /pipeline ----------------------------------------------------------------------------------------


def test_the_pipeline_groups_leads_by_what_needs_doing(harness: Harness) -> None:
    for name in ("Overdue Co", "Today Co", "Later Co", "Parked Co"):
        harness.command(DANA, "/lead", f"add {name}")
    harness.command(DANA, "/logcall", "overdue co vm")  # Monday: due Friday
    harness.command(DANA, "/lead", "backburner parked")
    harness.clock.advance(days=2)
    harness.command(DANA, "/logcall", "later co connected")  # Wednesday: due a week later
    harness.clock.advance(days=2)
    harness.command(DANA, "/logcall", "today co vm")  # Friday: four days on is Tuesday
    harness.clock.advance(days=4)  # Tuesday
    text = flatten(harness.command(DANA, "/pipeline").blocks)
    order = ["*Overdue*", "*Overdue Co*", "*Due today*", "*Today Co*", "*Upcoming*", "*Later Co*"]
    order += ["*Back-burner*", "*Parked Co*"]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    assert "2 working days overdue" in text  # Friday and Monday


def test_the_pipeline_item_menu_opens_the_logcall_modal_for_that_lead(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    pipeline = harness.command(DANA, "/pipeline")
    harness.slack.click(DANA, pipeline, Action.LEAD_MENU, option_value=f"{Action.LOGCALL_OPEN}:1")
    view = harness.slack.open_modal(DANA)
    assert view is not None
    assert view["blocks"][0]["element"]["initial_option"]["text"]["text"] == "Acme Corp"


def test_a_manager_sees_a_reps_pipeline_and_a_rep_does_not(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    managed = flatten(harness.command(MORGAN, "/pipeline", "@dana").blocks)
    assert "<@U0DANA>'s pipeline" in managed and "Acme Corp" in managed
    refused = flatten(harness.command(SAM, "/pipeline", "@dana").blocks)
    assert "Only managers" in refused and "Acme Corp" not in refused


def test_an_empty_pipeline_says_how_to_start(harness: Harness) -> None:
    assert "/lead add" in flatten(harness.command(SAM, "/pipeline").blocks)


def test_stalled_and_old_leads_are_flagged(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Initech")
    harness.command(DANA, "/logcall", "initech connected talked budgets")
    harness.clock.now += timedelta(days=95)
    text = flatten(harness.command(DANA, "/pipeline").blocks)
    assert "stalled" in text and "past the sales cycle" in text


def test_the_lead_card_counts_overdue_in_working_days_as_the_pipeline_does(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")  # Monday 23 November: the first try is due today
    harness.clock.advance(days=7)  # the Monday after: five working days missed, seven calendar days
    card = flatten(harness.command(DANA, "/lead", "show acme").blocks)
    pipeline = flatten(harness.command(DANA, "/pipeline").blocks)
    assert "5 working days overdue" in card and "5 working days overdue" in pipeline
    assert "7 days overdue" not in card


def test_the_pipeline_shows_a_coming_meeting_not_the_follow_up_after_it(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Umbrella")
    harness.command(DANA, "/logcall", "umbrella meeting 2026-11-25 demo")  # booked Monday for Wednesday
    harness.clock.advance(days=1)  # Tuesday: the reminder day
    line = next(
        part
        for part in flatten(harness.command(DANA, "/pipeline").blocks).split("\n")
        if "*Umbrella*" in part
    )
    assert "send a reminder today" in line and "in 2 days" not in line
