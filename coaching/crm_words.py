"""What CRMs call things: the header spellings Salesforce, HubSpot and spreadsheets use, and the
status and stage words Baton reads (which are open, won, lost or parked, and which mean a conversation).
Pure: words in, meanings out.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from coaching.rules import Status

# Header spellings as the common CRMs export them, casefolded with punctuation dropped.
HEADERS: dict[str, tuple[str, ...]] = {
    "company": (
        "company",
        "company name",
        "account",
        "account name",
        "organization",
        "organisation",
        "business",
    ),
    "name": ("lead name", "name", "lead", "deal name", "opportunity name", "opportunity"),
    "owner": (
        "owner",
        "lead owner",
        "contact owner",
        "company owner",
        "deal owner",
        "account owner",
        "hubspot owner",
        "sales rep",
        "rep",
        "assigned to",
        "owner id",
        "slack id",
        "owner slack id",
    ),
    "owner_email": (
        "owner email",
        "lead owner email",
        "contact owner email",
        "company owner email",
        "deal owner email",
        "hubspot owner email",
        "owner e mail",
        "rep email",
        "sales rep email",
    ),
    "created": (
        "created date",
        "create date",
        "created",
        "created on",
        "date created",
        "lead created date",
        "created at",
    ),
    "status": (
        "status",
        "lead status",
        "stage",
        "lifecycle stage",
        "deal stage",
        "lead stage",
        "pipeline stage",
    ),
    "last_activity": (
        "last activity",
        "last activity date",
        "last touch",
        "last engagement date",
        "last activity time",
        "last modified date",
    ),
    # When someone last talked with them: HubSpot's "Last Contacted", Baton's own export.
    "last_contacted": ("last contacted", "last contact date", "last contacted date", "date of last contact"),
    "reached": ("reached", "contact made", "connected with"),
    "attempts": ("attempts", "call attempts", "attempts made", "number of attempts", "unanswered attempts"),
    # Everything logged (calls, e-mails, meetings, answered or not): not unanswered attempts.
    "activities": (
        "number of sales activities",
        "number of times contacted",
        "number of activities",
        "sales activities",
        "activity count",
        "touches",
    ),
    "email": (
        "email",
        "email 1",
        "email address",
        "e mail",
        "work email",
        "business email",
        "primary email",
        "email 2",
        "secondary email",
        "other email",
        "personal email",
    ),
    "phone": (
        "phone",
        "phone 1",
        "phone number",
        "business phone",
        "work phone",
        "direct phone",
        "telephone",
        "mobile",
        "mobile phone",
        "mobile phone number",
        "cell",
        "cell phone",
        "phone 2",
        "other phone",
        "home phone",
    ),
    "notes": ("notes", "note", "description", "comments", "comment", "lead notes"),
    # What Baton's own export writes of a lead's schedule, so an export imports back whole.
    "next_follow_up": ("next follow up", "next follow up date"),
    "meeting": ("meeting", "meeting date", "next meeting"),
    "snoozed": ("snoozed until", "snoozed"),
    "opt_out": (
        "opted out",
        "opt out",
        "optout",
        "do not call",
        "donotcall",
        "do not contact",
        "do not email",
        "dnc",
        "email opt out",
        "hasoptedoutofemail",
        "unsubscribed",
        "unsubscribed from all email",
        "opted out of all email",
        "opted out of email",
        "marketing emails opted out",
    ),
    "lost_reason": (
        "lost reason",
        "closed lost reason",
        "loss reason",
        "reason lost",
        "unqualified reason",
        "disqualified reason",
        "disqualification reason",
    ),
    # Beside an owner id, for people reading the file; the id decides.
    "owner_name": ("lead owner name", "owner name", "contact owner name", "deal owner name"),
    "first_name": ("first name", "firstname", "given name"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "contact": ("contact", "contact name", "full name", "primary contact", "person"),
    "title": ("title", "job title", "role", "position"),
    "decision_maker": ("decision maker", "decisionmaker", "dm", "is decision maker", "decider"),
}

STATUS_WORDS: dict[Status, tuple[str, ...]] = {
    Status.OPEN: (
        "new",
        "open",
        "working",
        "contacted",
        "attempting",
        "attempted to contact",
        "in progress",
        "qualified",
        "lead",
        "subscriber",
        "marketing qualified lead",
        "mql",
        "sales qualified lead",
        "sql",
        "opportunity",
        "prospect",
        "connected",
        "open deal",
        "appointment scheduled",
        "qualified to buy",
        "presentation scheduled",
        "decision maker bought in",
        "contract sent",
        "negotiation",
        "proposal",
        # Salesforce's default lead statuses and HubSpot's internal values, as their exports write them
        "open not contacted",
        "working contacted",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
        "contractsent",
        "attempted to contact",
        # Salesforce's default opportunity stages, and stages common in spreadsheets
        "prospecting",
        "qualification",
        "needs analysis",
        "value proposition",
        "id decision makers",
        "perception analysis",
        "proposal price quote",
        "negotiation review",
        "proposal sent",
        "discovery",
        "demo scheduled",
        "meeting booked",
        "meeting scheduled",
        "",
    ),
    Status.WON: (
        "won",
        "closed won",
        "closedwon",
        "customer",
        "converted",
        "closed converted",
        "evangelist",
    ),
    Status.LOST: (
        "lost",
        "closed lost",
        "closedlost",
        "closed not converted",
        "unqualified",
        "disqualified",
        "bad timing",
        "bad fit",
        "not interested",
        "junk",
    ),
    Status.BACKBURNER: (
        "nurture",
        "nurturing",
        "on hold",
        "back burner",
        "backburner",
        "dormant",
        "recycled",
        "later",
    ),
}
_STATUS = {word: status for status, words in STATUS_WORDS.items() for word in words}
YES = frozenset({"yes", "y", "true", "1", "x", "dm", "decision maker", "decision-maker", "✓"})
NO = frozenset({"no", "n", "false", "0", "", "-"})


@lru_cache(maxsize=4096)  # an import asks for the same few status and yes/no words on every row
def header_key(header: str) -> str:
    """How headers and status words are compared: case, spaces and punctuation don't matter."""
    return " ".join(re.sub(r"[^\w]+", " ", header.casefold().replace("_", " ")).split())


@dataclass(frozen=True)
class Columns:
    found: dict[str, tuple[int, ...]]  # field -> its columns, first the one to prefer
    ignored: tuple[str, ...]  # headers Baton has no use for (phone, e-mail of the person…)

    def understood(self, headers: list[str]) -> list[str]:
        """How each header was read, for the report: "Company Name → lead"."""
        return [
            f"{headers[index]} → {FIELD_LABELS[name]}"
            for name, indexes in self.found.items()
            for index in indexes
        ]


FIELD_LABELS = {
    "company": "lead",
    "name": "lead (or contact, with a company column)",
    "owner": "owner",
    "owner_email": "owner",
    "created": "created",
    "status": "status",
    "last_activity": "last activity",
    "attempts": "attempts",
    "first_name": "contact",
    "last_name": "contact",
    "contact": "contact",
    "title": "contact's role",
    "decision_maker": "decision-maker",
    "last_contacted": "last contact",
    "reached": "reached",
    "activities": "activities (not counted as unanswered tries)",
    "email": "contact's e-mail",
    "phone": "contact's phone",
    "notes": "the lead's notes",
    "opt_out": "opted out",
    "lost_reason": "lost reason",
    "owner_name": "owner's name (shown only: the owner column decides)",
    "next_follow_up": "next follow-up",
    "meeting": "meeting booked",
    "snoozed": "snoozed until",
}


def match_headers(headers: list[str]) -> Columns:
    """Which column holds what. A field may come in several columns (HubSpot exports both
    Lifecycle Stage and Lead Status); the first non-empty one wins, except for status (see read_status).
    """
    found: dict[str, tuple[int, ...]] = {}
    ignored = []
    lookup = {spelling: name for name, spellings in HEADERS.items() for spelling in spellings}
    for index, header in enumerate(headers):
        name = lookup.get(header_key(header))
        if name is None:
            ignored.append(header)
        else:
            found[name] = (*found.get(name, ()), index)
    return Columns(found, tuple(ignored))


_CLOSING_WORDS = (
    (Status.LOST, frozenset({"lost", "unqualified", "disqualified", "junk"})),
    (Status.WON, frozenset({"won", "customer", "customers"})),
    (Status.BACKBURNER, frozenset({"nurture", "nurturing", "hold", "dormant", "paused", "parked"})),
    (
        Status.OPEN,
        frozenset(
            {"open", "new", "working", "contacted", "contacting", "attempting", "qualified", "qualifying"}
            | {"discovery", "demo", "meeting", "proposal", "negotiation", "negotiating", "pending"}
            | {"qualification", "prospecting", "contract", "presentation", "quote", "analysis"}
        ),
    ),
)
_PRECEDENCE = (Status.WON, Status.LOST, Status.BACKBURNER, Status.OPEN)


class StatusHow(StrEnum):
    """How a status word was read, for the import's report."""

    KNOWN = "a status Baton knows"
    TELLING = "read by its telling word"
    MAPPED = "from the statuses file"
    UNKNOWN = "unknown to Baton: imported as open"


def read_status_word(value: str, mapping: Mapping[str, Status] | None = None) -> tuple[Status, StatusHow]:
    """One status word: the team's own mapping first (`--statuses`), then the words Baton knows, then
    the telling word ("Closed - Lost to competitor" is lost). A CRM's custom stage that says none of
    these ("Re-engagement") is open: the rep is still working it, and the report names it so the team
    can map it otherwise and import again."""
    key = header_key(value)
    if mapping and key in mapping:
        return mapping[key], StatusHow.MAPPED
    status = _STATUS.get(key)
    if status is not None:
        return status, StatusHow.KNOWN
    words = set(key.split())
    status = next((s for s, telling in _CLOSING_WORDS if words & telling), None)
    if status is not None:
        return status, StatusHow.TELLING
    return Status.OPEN, StatusHow.UNKNOWN


def most_final(statuses: Iterable[Status]) -> Status:
    """Of several status columns, the most final word wins (a HubSpot "Customer" is won whatever its Lead Status)."""
    found = set(statuses)
    return next((status for status in _PRECEDENCE if status in found), Status.OPEN)


def read_status(values: Iterable[str]) -> Status | None:
    """A lead's status from its status columns, or None when a word means nothing to Baton.

    The most final word wins: a HubSpot row whose Lifecycle Stage is "Customer" is won whatever
    its Lead Status says. Words not in STATUS_WORDS are read by their telling word ("Closed - Lost
    to competitor" is lost), so a team's custom stages mostly work without a mapping.
    """
    statuses = set()
    for value in values:
        key = header_key(value)
        status = _STATUS.get(key)
        if status is None:
            words = set(key.split())
            status = next((s for s, telling in _CLOSING_WORDS if words & telling), None)
        if status is None:
            return None
        statuses.add(status)
    return next((status for status in _PRECEDENCE if status in statuses), Status.OPEN)


# Statuses and stages that mean somebody has talked with them (the CRM's word, keyed as _key makes
# it). HubSpot's deal stages past the first, Salesforce's opportunity stages past Prospecting.
CONVERSATION = frozenset(
    {
        "contacted",
        "working",
        "working contacted",
        "connected",
        "qualified",
        "sales qualified lead",
        "salesqualifiedlead",
        "sql",
        "opportunity",
        "open deal",
        "qualified to buy",
        "qualifiedtobuy",
        "presentation scheduled",
        "presentationscheduled",
        "decision maker bought in",
        "decisionmakerboughtin",
        "contract sent",
        "contractsent",
        "qualification",
        "needs analysis",
        "value proposition",
        "id decision makers",
        "perception analysis",
        "proposal",
        "proposal sent",
        "proposal price quote",
        "negotiation",
        "negotiation review",
        "in negotiation",
        "demo",
        "demo scheduled",
        "meeting",
        "meeting booked",
        "meeting scheduled",
        "discovery",
        "evangelist",
    }
)
# Words that say no conversation yet, whatever else the status says ("Open - Not Contacted").
_NOT_YET = frozenset(
    {"not", "attempted", "attempting", "unqualified", "unreached", "unreachable", "marketing"}
)
_TALKED = frozenset(
    {"contacted", "connected", "qualified", "qualification", "discovery", "demo", "meeting", "proposal"}
    | {"negotiation", "negotiating", "contract", "presentation", "quote", "working", "engaged"}
)


def read_reached(values: Iterable[str]) -> bool:
    """Whether a lead's statuses say someone has talked with them (a won deal has, too).

    A known stage is looked up; another is read by its telling words ("Working - Contacted",
    "Negotiation/Review"), unless it says the opposite ("Open - Not Contacted", "Attempted to Contact").
    """
    for value in values:
        key = header_key(value)
        words = set(key.split())
        if key in CONVERSATION or _STATUS.get(key) is Status.WON:
            return True
        if not words & _NOT_YET and words & _TALKED:
            return True
    return False
