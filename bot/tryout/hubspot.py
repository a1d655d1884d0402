"""The try-out's HubSpot: the stand-in (bot/localhubspot) seeded with the demo team's pipeline, and
the `crm` commands that show HubSpot's side and change it the way someone in HubSpot would.

HubSpot holds the demo team's deals (named like Baton's leads, so the first sync links them rather
than doubling them), two deals Baton hasn't heard of yet (with a history of calls and e-mails the
first pull turns into progress), and a contact with a lead status and no deal (a prospect).
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.localhubspot import HubSpot, LocalHubSpot
from bot.localhubspot.schema import CALL_OUTCOMES
from bot.tryout import seed
from coaching.leads import Change

# (owner, deal = company name, stage, [(days ago, kind, properties)], contact (first, last, title))
HubSpotOnly = tuple[str, str, str, list[tuple[int, str, dict[str, str]]], tuple[str, str, str] | None]
ONLY_IN_HUBSPOT: list[HubSpotOnly] = [
    (
        seed.SAM,
        "Tyrell Corporation",
        "presentationscheduled",
        [
            (
                20,
                "calls",
                {"hs_call_body": "Intro call with Eldon", "hs_call_disposition": CALL_OUTCOMES["Connected"]},
            ),
            (13, "emails", {"hs_email_subject": "Pilot proposal", "hs_email_text": "Proposal attached"}),
            (6, "calls", {"hs_call_disposition": CALL_OUTCOMES["No answer"]}),
        ],
        ("Eldon", "Tyrell", "CEO"),
    ),
    (
        seed.DANA,
        "Oceanic Airlines",
        "appointmentscheduled",
        [(3, "emails", {"hs_email_subject": "Fleet scheduling", "hs_email_text": "Sent the overview deck"})],
        None,
    ),
]
PROSPECT = ("Ellen", "Ripley", "Weyland-Yutani", "Head of Operations", "NEW")
STAGE_OF_CHANGE = {Change.WON: "closedwon", Change.LOST: "closedlost"}


def email_of(user_id: str) -> str:
    """The e-mail the stand-in Slack gives each demo person (users.lookupByEmail finds them by it)."""
    user = next(p for p in seed.PEOPLE if p.id == user_id)
    return str(user.to_slack(seed.TEAM_ID)["profile"]["email"])


def seed_hubspot(hubspot: HubSpot, *, now: datetime) -> dict[str, str]:
    """Fill the stand-in with the demo team's HubSpot account; returns Slack user id → owner id."""
    owners = {
        person.id: hubspot.add_owner(email_of(person.id), *person.real_name.split(" ", 1))
        for person in seed.PEOPLE
    }
    for owner, name, _age, _touches, contact, change in seed.STORIES:
        company = hubspot.add_company(name)
        people = []
        if contact:
            person, title, _decides = contact
            first, _, last = person.partition(" ")
            people.append(hubspot.add_contact(first, last, company=company, jobtitle=title))
        stage = STAGE_OF_CHANGE.get(change, "qualifiedtobuy") if change else "qualifiedtobuy"
        hubspot.add_deal(name, stage=stage, owner=owners[owner], company=company, contacts=people)
    for owner, name, stage, history, someone in ONLY_IN_HUBSPOT:
        company = hubspot.add_company(name)
        people = []
        if someone:
            first, last, job = someone
            domain = name.split()[0].lower() + ".example"
            people.append(
                hubspot.add_contact(first, last, f"{first.lower()}@{domain}", company=company, jobtitle=job)
            )
        deal = hubspot.add_deal(name, stage=stage, owner=owners[owner], company=company, contacts=people)
        for days_ago, kind, props in history:
            at = now - timedelta(days=days_ago)
            hubspot.add_engagement(
                kind,
                timestamp_ms=int(at.timestamp() * 1000),
                owner=owners[owner],
                deal=deal,
                contact=people[0] if people else None,
                **{k: v for k, v in props.items() if v},
            )
    first, last, company_name, title, status = PROSPECT
    prospect_company = hubspot.add_company(company_name)
    hubspot.add_contact(
        first,
        last,
        f"{first.lower()}@weyland.example",
        company=prospect_company,
        jobtitle=title,
        hs_lead_status=status,
        hubspot_owner_id=owners[seed.DANA],
    )
    return owners


class TryoutHubSpot:
    """The stand-in HubSpot the try-out runs beside Baton, and the `crm` commands about it."""

    def __init__(self, *, clock: Callable[[], datetime], say: Callable[[str], None]) -> None:
        # HubSpot's timestamps follow the try-out's clock (which may run a day or two ahead, to
        # show a working day), so what changes in HubSpot is never older than Baton's last sync.
        self.hubspot = HubSpot(now_ms=lambda: int(clock().timestamp() * 1000))
        self.owners = seed_hubspot(self.hubspot, now=clock())
        self.local = LocalHubSpot(self.hubspot)
        self.say = say
        self.clock = clock

    @property
    def url(self) -> str:
        return self.local.url

    @property
    def token(self) -> str:
        return self.hubspot.token

    def start(self) -> "TryoutHubSpot":
        self.local.start()
        return self

    def stop(self) -> None:
        self.local.stop()

    # ---- what `crm` shows and changes ------------------------------------------------------------
    def handle(self, words: list[str], sync: Callable[[], list[str]] | None) -> None:
        """`crm`, `crm sync`, `crm stage DEAL STAGE`, `crm owner DEAL PERSON`, `crm call DEAL OUTCOME`."""
        if not words or words[0] == "show":
            self.show()
        elif words[0] == "sync":
            if sync is None:
                self.say("  This build of Baton has no HubSpot sync to run.")
                return
            for line in sync():
                self.say("  " + line)
        elif not self.change(words):
            self.say(
                "  `crm` shows HubSpot's side; `crm sync` syncs now; `crm stage acme closedwon`, "
                "`crm owner pied piper dana` and `crm call acme connected` change a deal or log a call "
                "in HubSpot, as someone working there would."
            )

    def show(self) -> None:
        """HubSpot's side: open deals with stage and owner, then the engagements Baton logged there."""
        names = {
            owner: person.real_name
            for person in seed.PEOPLE
            for p, owner in self.owners.items()
            if p == person.id
        }
        stages = {s.id: s.label for s in self.hubspot.pipelines["default"].stages}
        self.say("  HubSpot (the stand-in on this machine) shows:")
        for deal in sorted(self.hubspot.objects("deals"), key=lambda d: d["properties"]["dealname"]):
            if deal["archived"]:
                continue
            props = deal["properties"]
            owner = names.get(props.get("hubspot_owner_id", ""), "no owner")
            self.say(
                f"    {props['dealname']:<22} {stages.get(props['dealstage'], props['dealstage']):<24} {owner}"
            )
        logged = [
            (kind, e)
            for kind in ("calls", "emails", "meetings", "notes")
            for e in self.hubspot.objects(kind)
            if e["properties"].get("baton_touch_id")
        ]
        if not logged:
            self.say("  No touches from Baton in HubSpot yet: log one (/logcall), then `crm sync`.")
            return
        self.say(f"  Touches Baton logged in HubSpot ({len(logged)}), latest first:")
        deals = {d["id"]: d["properties"]["dealname"] for d in self.hubspot.objects("deals")}
        for kind, engagement in sorted(logged, key=lambda pair: pair[1]["properties"]["hs_timestamp"])[::-1][
            :5
        ]:
            props = engagement["properties"]
            deal_names = ", ".join(deals.get(d, d) for d in engagement["associations"].get("deals", []))
            body = (
                props.get("hs_call_body")
                or props.get("hs_email_text")
                or props.get("hs_meeting_body")
                or props.get("hs_note_body")
                or ""
            )
            self.say(
                f"    {kind[:-1]:<8} on {deal_names or '—':<22} {props['hs_timestamp'][:10]}  {body[:60]}"
            )

    def change(self, words: list[str]) -> bool:
        """`crm stage DEAL STAGE`, `crm owner DEAL PERSON` or `crm call DEAL OUTCOME`: a change
        made (a call logged) in HubSpot, not Baton."""
        if len(words) < 3 or words[0] not in ("stage", "owner", "call"):
            return False
        what, target = words[0], words[-1].lower()
        deal_words = " ".join(words[1:-1]).lower()
        deal = next(
            (
                d
                for d in self.hubspot.objects("deals")
                if deal_words in d["properties"]["dealname"].lower() and not d["archived"]
            ),
            None,
        )
        if deal is None:
            self.say(f"  HubSpot has no deal matching {deal_words!r}.")
            return True
        if what == "call":
            outcomes = {name.lower().replace(" ", ""): value for name, value in CALL_OUTCOMES.items()}
            disposition = outcomes.get(target.replace("-", ""))
            if disposition is None:
                self.say("  Call outcomes: " + ", ".join(sorted(outcomes)) + ".")
                return True
            owner = deal["properties"].get("hubspot_owner_id")
            self.hubspot.add_engagement(
                "calls",
                timestamp_ms=int(self.clock().timestamp() * 1000),
                owner=owner,
                deal=deal["id"],
                hs_call_disposition=disposition,
            )
            self.say(f"  In HubSpot, a call on {deal['properties']['dealname']} was logged: {target}.")
        elif what == "stage":
            stages = {s.id: s for s in self.hubspot.pipelines["default"].stages}
            stage = next(
                (s for s in stages.values() if target in (s.id, s.label.lower().replace(" ", ""))), None
            )
            if stage is None:
                self.say(f"  Stages: {', '.join(stages)}.")
                return True
            self.hubspot.update("deals", deal["id"], dealstage=stage.id)
            self.say(f"  In HubSpot, {deal['properties']['dealname']} moved to {stage.label}.")
        else:
            person = next((p for p in seed.PEOPLE if target in (p.name, p.real_name.lower())), None)
            if person is None:
                self.say("  Owners: " + ", ".join(p.name for p in seed.PEOPLE) + ".")
                return True
            self.hubspot.update("deals", deal["id"], hubspot_owner_id=self.owners[person.id])
            self.say(f"  In HubSpot, {deal['properties']['dealname']} now belongs to {person.real_name}.")
        self.say("  `crm sync` brings it into Baton now (a deployed Baton's clock syncs every 5 minutes).")
        return True
