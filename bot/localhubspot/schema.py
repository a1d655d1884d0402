"""What a fresh HubSpot account knows before anyone writes to it: object types, their built-in
properties, HubSpot-defined association type ids, the scopes each call needs, the default deal pipeline.

The numbers are HubSpot's own (developers.hubspot.com, "Associations v4" and "Pipelines"), so a sync
that passes against the stand-in sends the ids a real account accepts.
"""

# Object type names as paths spell them; singular names and HubSpot's object type ids are accepted too.
OBJECT_TYPE_IDS = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "tasks": "0-27",
    "notes": "0-46",
    "meetings": "0-47",
    "calls": "0-48",
    "emails": "0-49",
}
_SINGULAR = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "task": "tasks",
    "note": "notes",
    "meeting": "meetings",
    "call": "calls",
    "email": "emails",
}
ENGAGEMENTS = ("calls", "emails", "meetings", "notes", "tasks")
RECORDS = ("contacts", "companies", "deals")
# The "Last modified" property: contacts spell it without the hs_ prefix.
LAST_MODIFIED = {"contacts": "lastmodifieddate"}
CREATED = {"contacts": "createdate", "companies": "createdate", "deals": "createdate"}


def object_type(name: str) -> str | None:
    """The plural object type for a path segment ("deal", "deals", "0-3"), None when unknown."""
    lowered = name.lower()
    if lowered in OBJECT_TYPE_IDS:
        return lowered
    if lowered in _SINGULAR:
        return _SINGULAR[lowered]
    for plural, type_id in OBJECT_TYPE_IDS.items():
        if type_id == lowered:
            return plural
    return None


def last_modified(object_type: str) -> str:
    return LAST_MODIFIED.get(object_type, "hs_lastmodifieddate")


def created(object_type: str) -> str:
    return CREATED.get(object_type, "hs_createdate")


_COMMON = {"hs_object_id", "hubspot_owner_id", "hs_all_owner_ids"}
BUILT_IN_PROPERTIES: dict[str, set[str]] = {
    "contacts": _COMMON
    | {
        "firstname", "lastname", "email", "phone", "mobilephone", "jobtitle", "company", "website",
        "city", "state", "country", "hs_lead_status", "lifecyclestage", "hs_email_optout",
        "createdate", "lastmodifieddate", "notes_last_contacted", "num_contacted_notes",
        "associatedcompanyid",
    },
    "companies": _COMMON
    | {
        "name", "domain", "phone", "website", "industry", "city", "state", "country",
        "numberofemployees", "annualrevenue", "lifecyclestage", "hs_lead_status", "createdate",
        "hs_lastmodifieddate",
    },
    "deals": _COMMON
    | {
        "dealname", "dealstage", "pipeline", "amount", "closedate", "dealtype", "description",
        "hs_priority", "hs_next_step", "hs_is_closed", "hs_is_closed_won", "createdate",
        "closed_lost_reason", "closed_won_reason",
        "hs_lastmodifieddate",
    },
    "calls": _COMMON
    | {
        "hs_timestamp", "hs_call_title", "hs_call_body", "hs_call_disposition", "hs_call_status",
        "hs_call_direction", "hs_call_duration", "hs_call_to_number", "hs_call_from_number",
        "hs_createdate", "hs_lastmodifieddate",
    },
    "emails": _COMMON
    | {
        "hs_timestamp", "hs_email_subject", "hs_email_text", "hs_email_html", "hs_email_direction",
        "hs_email_status", "hs_email_headers", "hs_createdate", "hs_lastmodifieddate",
    },
    "meetings": _COMMON
    | {
        "hs_timestamp", "hs_meeting_title", "hs_meeting_body", "hs_internal_meeting_notes",
        "hs_meeting_location", "hs_meeting_start_time", "hs_meeting_end_time", "hs_meeting_outcome",
        "hs_createdate", "hs_lastmodifieddate",
    },
    "notes": _COMMON | {"hs_timestamp", "hs_note_body", "hs_attachment_ids", "hs_createdate", "hs_lastmodifieddate"},
    "tasks": _COMMON
    | {
        "hs_timestamp", "hs_task_subject", "hs_task_body", "hs_task_status", "hs_task_priority",
        "hs_task_type", "hs_createdate", "hs_lastmodifieddate",
    },
}  # fmt: skip
# HubSpot computes these; a write naming them is refused as a write to a read-only property.
READ_ONLY = {
    "hs_object_id", "createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate",
    "hs_is_closed", "hs_is_closed_won", "hs_all_owner_ids", "num_contacted_notes", "notes_last_contacted",
}  # fmt: skip
DATE_PROPERTIES = {
    "createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_timestamp",
    "closedate", "hs_meeting_start_time", "hs_meeting_end_time", "notes_last_contacted",
}  # fmt: skip
# Returned when a read names no properties (HubSpot's documented defaults).
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
        "hs_object_id", "pipeline",
    ),
}  # fmt: skip
ENGAGEMENT_DEFAULTS = ("hs_createdate", "hs_lastmodifieddate", "hs_object_id")
REQUIRED_ON_CREATE = {kind: ("hs_timestamp",) for kind in ENGAGEMENTS}

# HubSpot-defined association type ids: (from, to) -> {type id: label or None}. Each id has a
# reverse id for the other direction; a primary association also carries the unlabelled one.
ASSOCIATION_TYPES: dict[tuple[str, str], dict[int, str | None]] = {
    ("contacts", "companies"): {1: "Primary", 279: None},
    ("companies", "contacts"): {2: "Primary", 280: None},
    ("deals", "contacts"): {3: None},
    ("contacts", "deals"): {4: None},
    ("deals", "companies"): {5: "Primary", 341: None},
    ("companies", "deals"): {6: "Primary", 342: None},
}
REVERSE: dict[int, int] = {1: 2, 279: 280, 3: 4, 5: 6, 341: 342}
UNLABELLED_OF_PRIMARY = {1: 279, 2: 280, 5: 341, 6: 342}
_ENGAGEMENT_IDS = {  # kind: (to contact, to company, to deal); the reverse id is one less
    "calls": (194, 182, 206),
    "emails": (198, 186, 210),
    "meetings": (200, 188, 212),
    "notes": (202, 190, 214),
    "tasks": (204, 192, 216),
}
for _kind, _ids in _ENGAGEMENT_IDS.items():
    for _target, _id in zip(RECORDS, _ids, strict=True):
        ASSOCIATION_TYPES[(_kind, _target)] = {_id: None}
        ASSOCIATION_TYPES[(_target, _kind)] = {_id - 1: None}
        REVERSE[_id] = _id - 1
REVERSE.update({b: a for a, b in list(REVERSE.items())})
# The id `associate/default` and the v3 list's `associations` use for a pair.
DEFAULT_TYPE: dict[tuple[str, str], int] = {
    pair: next(i for i, label in ids.items() if label is None) for pair, ids in ASSOCIATION_TYPES.items()
}


def association_name(from_type: str, to_type: str, type_id: int) -> str:
    """The v3 `type` string of an association, e.g. "deal_to_contact", "deal_to_company_unlabeled"."""
    singular = {plural: one for one, plural in _SINGULAR.items()}
    name = f"{singular[from_type]}_to_{singular[to_type]}"
    return name + "_unlabeled" if type_id in (279, 280, 341, 342) else name


def scope_for(object_type: str, write: bool) -> str:
    """The granular scope a call on `object_type` needs. Engagements ride on the contacts scopes,
    as HubSpot's calls/emails/meetings/notes/tasks APIs document."""
    owner = object_type if object_type in RECORDS else "contacts"
    return f"crm.objects.{owner}.{'write' if write else 'read'}"


ALL_SCOPES = {
    "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read",
    "crm.objects.companies.write", "crm.objects.deals.read", "crm.objects.deals.write",
    "crm.objects.owners.read", "crm.schemas.contacts.read", "crm.schemas.contacts.write",
    "crm.schemas.companies.read", "crm.schemas.companies.write", "crm.schemas.deals.read",
    "crm.schemas.deals.write", "sales-email-read",
}  # fmt: skip

# HubSpot's default deal pipeline: (stage id, label, probability); the last two are closed.
DEFAULT_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4"),
    ("presentationscheduled", "Presentation Scheduled", "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
    ("contractsent", "Contract Sent", "0.9"),
    ("closedwon", "Closed Won", "1.0"),
    ("closedlost", "Closed Lost", "0.0"),
)

# A new account's call outcomes (`hs_call_disposition` holds the id; GET /calling/v1/dispositions).
CALL_OUTCOMES = {
    "Busy": "9d9162e7-6cf3-4944-bf63-4dff82258764",
    "Connected": "f240bbac-87c9-4f6e-bf70-924b57d47db7",
    "Left live message": "a4c4c377-d246-4b32-a13b-75a56a4cd0ff",
    "Left voicemail": "b2cf5968-551e-4856-9783-52b3da59a7d0",
    "No answer": "73a0d17f-1163-4015-bdd5-ec830791da20",
    "Wrong number": "17b47fee-58de-441e-a44c-c6300d46f273",
}

# Enumeration properties: a value outside the options is refused (INVALID_OPTION), as HubSpot does.
OPTIONS: dict[str, set[str]] = {
    "hs_lead_status": {
        "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
        "BAD_TIMING",
    },
    "lifecyclestage": {
        "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
        "evangelist", "other",
    },
    "hs_call_direction": {"INBOUND", "OUTBOUND"},
    "hs_call_status": {
        "BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED", "IN_PROGRESS",
        "MISSED", "NO_ANSWER", "QUEUED", "RINGING",
    },
    "hs_email_direction": {"EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"},
    "hs_email_status": {"BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"},
    "hs_meeting_outcome": {"SCHEDULED", "COMPLETED", "RESCHEDULED", "NO_SHOW", "CANCELED"},
    "hs_task_status": {"NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED"},
    "hs_email_optout": {"true", "false"},
    "hs_call_disposition": set(CALL_OUTCOMES.values()),
}  # fmt: skip
