"""Block Kit built by handlers/blocks/: escaping, Slack's limits, and the ids buttons carry."""

import json
from datetime import UTC, date, datetime, timedelta

from coaching.finding import LeadOption, WhichLead
from coaching.leads import LeadExists
from coaching.pipeline import Item, Pipeline
from coaching.rules import Counts, Flag, Outcome, Rules, Stage, Status
from coaching.snapshots import LeadSnapshot
from coaching.tips import Situation, tip
from coaching.touches import Reading, TouchLogged
from handlers.blocks.base import HEADER_TEXT, Message, button, plain, something_went_wrong, stale_button
from handlers.blocks.ids import Action, read_ids
from handlers.blocks.leads import lead_exists, lead_help
from handlers.blocks.logcall import logcall_modal, touch_logged, which_lead
from handlers.blocks.pipeline import pipeline
from handlers.blocks.text import clip, esc, label

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def lead(lead_id: int = 7, name: str = "Acme Corp", **changes: object) -> LeadSnapshot:
    values: dict[str, object] = {
        "id": lead_id,
        "name": name,
        "owner_id": "U0DANA",
        "status": Status.OPEN,
        "created_at": NOW - timedelta(days=10),
        "closed_at": None,
        "lost_reason": None,
        "opted_out_at": None,
        "attempts": 5,
        "reached": False,
        "ever_reached": False,
        "last_touch_at": NOW,
        "last_contact_at": None,
        "next_follow_up": TODAY + timedelta(days=4),
        "meeting_on": None,
    }
    values.update(changes)
    return LeadSnapshot(**values)  # type: ignore[arg-type]


def logged(note: str = "", **changes: object) -> TouchLogged:
    values: dict[str, object] = {
        "lead": lead(),
        "touch_id": 99,
        "outcome": Outcome.VOICEMAIL,
        "outcome_given": True,
        "on": TODAY,
        "today": TODAY,
        "meeting_booked": None,
        "note": note,
        "removed_characters": 0,
        "stage": Stage.TRYING,
        "rules": Rules(),
        "tip": tip(Situation.VOICEMAIL, seed=0),
        "readings": (),
        "logged_by": "U0DANA",
    }
    values.update(changes)
    return TouchLogged(**values)  # type: ignore[arg-type]


def payload(message: Message) -> str:
    return json.dumps(message.payload(), ensure_ascii=False)


# ---- escaping ---------------------------------------------------------------------------------------


def test_special_mentions_in_user_text_are_defused() -> None:
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<!subteam^S123|sales>", "<!date^1|x>"):
        assert "<!" not in esc(f"hello {ping} there")


def test_user_and_channel_mentions_survive_escaping() -> None:
    assert esc("talked to <@U0SAM|sam> in <#C0SALES|sales>") == "talked to <@U0SAM> in <#C0SALES>"


def test_the_notification_fallback_is_escaped_too() -> None:
    message = lead_exists(LeadExists(lead(name="<!channel> & Co")))
    assert message.payload()["text"].startswith("@channel &amp; Co")
    assert plain("*Acme &amp; Sons* is &lt;ok&gt;").payload()["text"] == "*Acme &amp; Sons* is &lt;ok&gt;"


def test_fake_links_and_ampersands_are_escaped() -> None:
    assert esc("<https://evil.example|click> & co") == "&lt;https://evil.example|click&gt; &amp; co"


def test_a_logged_touch_never_echoes_a_special_mention_from_the_note_or_name() -> None:
    message = touch_logged(logged(note="<!channel> hi", lead=lead(name="<!here> Corp")), NOW)
    assert "<!channel>" not in payload(message)
    assert "<!here>" not in payload(message)


# ---- the /logcall reply -------------------------------------------------------------------------------


def test_the_reply_says_what_was_logged_the_attempt_count_and_the_next_follow_up() -> None:
    message = touch_logged(logged(), NOW)
    text = payload(message)
    assert "voicemail" in text
    assert "Attempt 5 of 8" in text
    assert "Fri 27 Nov" in text
    assert message.text.startswith("Logged a voicemail on Acme Corp")


def test_a_long_note_is_quoted_in_part_and_said_to_be_saved_in_full() -> None:
    message = touch_logged(logged(note="x" * 20_000), NOW)
    text = payload(message)
    assert "20,000 characters" in text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in message.payload()["blocks"])


def test_readings_say_how_ambiguous_text_was_understood() -> None:
    readings = (Reading("acme", "Acme Corp"), Reading("friday", date(2026, 11, 20)))
    text = payload(touch_logged(logged(readings=readings), NOW))
    assert "Read “acme” as *Acme Corp*" in text
    assert "Read “friday” as Fri 20 Nov" in text


def test_at_the_attempt_limit_the_reply_offers_the_back_burner() -> None:
    message = touch_logged(logged(stage=Stage.INSIST, lead=lead(attempts=8)), NOW)
    actions = [b for b in message.payload()["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions[0]["elements"]] == [(Action.LEAD_BACKBURNER, "7")]


def test_which_lead_buttons_carry_the_draft_and_the_lead() -> None:
    choice = WhichLead(
        draft_id=42,
        command="logcall",
        lead_text="acme",
        options=(LeadOption(1, "Acme Corp", Status.OPEN, "U1"), LeadOption(2, "Acme Labs", Status.WON, "U1")),
        more=0,
        unknown=False,
        can_add=False,
    )
    actions = next(b for b in which_lead(choice).payload()["blocks"] if b["type"] == "actions")
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in actions["elements"]] == [
        (Action.DRAFT_PICK, "42:1", "Acme Corp"),
        (Action.DRAFT_PICK, "42:2", "Acme Labs (won)"),
    ]


def test_an_unknown_lead_offers_to_add_it() -> None:
    choice = WhichLead(42, "logcall", "Initrode", (), more=0, unknown=True, can_add=True)
    actions = next(b for b in which_lead(choice).payload()["blocks"] if b["type"] == "actions")
    assert actions["elements"][0]["action_id"] == Action.DRAFT_ADD
    assert actions["elements"][0]["value"] == "42"


def test_button_values_are_read_back_strictly() -> None:
    assert read_ids("12:34", 2) == (12, 34)
    assert read_ids("12", 1) == (12,)
    for bad in (None, "", "x", "12:", "-1", "1:2:3", "9" * 40, "1e3"):
        assert read_ids(bad, 2 if bad and ":" in bad else 1) is None


# ---- limits ------------------------------------------------------------------------------------------


def test_a_huge_pipeline_stays_within_fifty_blocks_and_every_text_limit() -> None:
    def items(count: int, due_days: int) -> tuple[Item, ...]:
        return tuple(
            Item(
                lead(i, f"Lead {i:04d} " + "w" * 140, next_follow_up=TODAY + timedelta(days=due_days)),
                frozenset({Flag.STALLED}),
            )
            for i in range(count)
        )

    view = Pipeline(
        owner_id="U0DANA",
        today=TODAY,
        overdue=items(400, -3),
        due_today=items(300, 0),
        upcoming=items(500, 5),
        undecided=items(200, 0),
        backburner=items(300, 0),
        rules=Rules(),
        counts=Counts(open=1400, overdue=400, due_today=300, upcoming=500, to_decide=200),
    )
    message = pipeline(view, NOW, viewer="U0DANA")
    body = message.payload()  # slack_sdk validates every element's limits here
    assert len(body["blocks"]) <= 50
    assert "400" in json.dumps(body)  # the counts are still told


def test_a_lead_name_longer_than_a_header_is_clipped_in_the_card() -> None:
    assert len(clip("x" * 500, HEADER_TEXT)) == HEADER_TEXT


def test_every_message_has_a_text_fallback() -> None:
    for message in (
        touch_logged(logged(), NOW),
        plain("hi"),
        stale_button(),
        something_went_wrong("/logcall acme"),
        lead_help(),
    ):
        assert message.payload()["text"].strip()


def test_the_modal_opens_on_the_lead_it_was_asked_for_and_the_reps_today() -> None:
    view = logcall_modal(today=TODAY, channel_id="C1", lead=(7, "Acme Corp")).to_dict()
    picker = view["blocks"][0]["element"]
    assert picker["initial_option"]["value"] == "7"
    assert view["blocks"][2]["element"]["initial_date"] == "2026-11-23"
    assert json.loads(view["private_metadata"]) == {"channel": "C1", "refresh": None, "home": False}


def test_plain_text_labels_show_encoded_mentions_as_typed() -> None:
    assert label("<!channel> & <!here|here> <!subteam^S1|@sales> <@U1|sam> <#C1|deals>", 200) == (
        "@channel & @here @sales @sam deals"
    )
    assert "<!" not in json.dumps(button("Add “<!everyone>”", "x", "1").to_dict())
