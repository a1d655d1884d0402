"""Rights: only a lead's owner or a manager may clear its opt-out or snooze it, however the request is made."""

from sqlalchemy import select

from handlers.blocks.ids import Action
from store.models import Contact, Lead
from tests.conftest import DANA, MORGAN, SAM, Harness, flatten
from tests.slack.test_digest import two_leads_due
from tests.slack.test_home_and_coach import home_text, open_home, overdue_leads


def lead(h: Harness, name: str) -> Lead:
    with h.db.readers.begin() as session:
        return session.scalars(select(Lead).where(Lead.name == name)).one()


def contacts(h: Harness) -> list[str]:
    with h.db.readers.begin() as session:
        return list(session.scalars(select(Contact.name)))


def test_a_colleague_cannot_clear_an_opt_out_by_naming_a_new_contact(harness: Harness) -> None:
    harness.command(DANA, "/lead", "add Acme Corp")
    harness.command(DANA, "/lead", "optout Acme Corp")
    reply = harness.command(SAM, "/handoff", "Acme Corp contact Raj Patel Procurement lead")
    assert "only they or a manager can" in flatten(reply.blocks)
    assert lead(harness, "Acme Corp").opted_out_at is not None
    assert contacts(harness) == []


def test_the_owner_or_a_manager_may_hand_the_lead_to_a_new_contact(harness: Harness) -> None:
    for name in ("Acme Corp", "Globex"):
        harness.command(DANA, "/lead", f"add {name}")
        harness.command(DANA, "/lead", f"optout {name}")
    harness.command(DANA, "/handoff", "Acme Corp contact Raj Patel")
    harness.command(MORGAN, "/handoff", "Globex contact Mia Chen")
    assert lead(harness, "Acme Corp").opted_out_at is None
    assert lead(harness, "Globex").opted_out_at is None
    assert sorted(contacts(harness)) == ["Mia Chen", "Raj Patel"]


def test_a_forged_snooze_click_on_a_colleagues_lead_changes_nothing(harness: Harness) -> None:
    digest = two_leads_due(harness)  # Dana's digest; Sam sends a click on it as if it were his
    acme = lead(harness, "Acme Corp")
    reply = harness.click(SAM, digest, Action.DIGEST_SNOOZE, value=str(acme.id))
    assert "only they or a manager can snooze it" in flatten(reply.blocks)
    after = lead(harness, "Acme Corp")
    assert (after.snoozed_until, after.next_follow_up) == (None, acme.next_follow_up)


def test_a_stale_home_tab_cannot_snooze_a_lead_that_has_moved_on(harness: Harness) -> None:
    overdue_leads(harness, DANA, ["Acme Corp", "Globex"])
    open_home(harness, DANA)
    harness.command(MORGAN, "/handoff", "Acme Corp @sam Sam knows their CFO")  # a manager's: at once
    assert lead(harness, "Acme Corp").owner_id == SAM
    harness.slack.home_click(DANA, Action.DIGEST_SNOOZE, value=str(lead(harness, "Acme Corp").id))
    assert lead(harness, "Acme Corp").snoozed_until is None
    assert "only they or a manager can snooze it" in home_text(harness, DANA)
