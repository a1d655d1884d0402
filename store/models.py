"""The tables. Every row belongs to a Slack team (`team_id`); every query filters by it."""

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Index, MetaData, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.types import UtcDateTime

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TEAM = String(32)
USER = String(32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class Rep(Base):
    """A Slack user as Baton last saw them: the time zone decides what "today" means for them."""

    __tablename__ = "rep"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    user_id: Mapped[str] = mapped_column(USER)
    name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    deactivated: Mapped[bool] = mapped_column(default=False)
    is_bot: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False)  # a Slack workspace admin or owner
    # Their own working days (`/coach me workdays sun-thu`), as written; None: the team's.
    workdays: Mapped[str | None] = mapped_column(String(32))
    refreshed_at: Mapped[datetime]


class Manager(Base):
    """A manager added in Slack (`/coach managers add`), beside those in COACH_MANAGER_IDS."""

    __tablename__ = "manager"

    team_id: Mapped[str] = mapped_column(TEAM, primary_key=True)
    user_id: Mapped[str] = mapped_column(USER, primary_key=True)
    added_by: Mapped[str] = mapped_column(USER)
    added_at: Mapped[datetime]


class Lead(Base):
    """A company the team is selling to.

    The progress columns (attempts .. meeting_on) summarise the touch log. They are recomputed
    from the lead's touches whenever one is logged, so the digest and /pipeline read one row
    per lead instead of aggregating a million touches.
    """

    __tablename__ = "lead"
    __table_args__ = (
        UniqueConstraint("team_id", "name_key"),
        Index("ix_lead_team_owner_status", "team_id", "owner_id", "status"),
        # the attempt curve: a team's reached leads, answered from the index alone
        Index(
            "ix_lead_first_contact", "team_id", "first_contact_at", "first_contact_tries", "attempt_baseline"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    name: Mapped[str] = mapped_column(String(200))
    # casefolded, whitespace-collapsed name: what lookups and the uniqueness rule compare
    name_key: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str] = mapped_column(USER)
    created_by: Mapped[str] = mapped_column(USER)
    status: Mapped[str] = mapped_column(String(16), default="open")
    lost_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    opted_out_at: Mapped[datetime | None]

    # when the current round of attempts began (reopened, new contact); None: the lead's whole life
    counting_since: Mapped[datetime | None]
    attempt_baseline: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    reached: Mapped[bool] = mapped_column(default=False)
    ever_reached: Mapped[bool] = mapped_column(default=False)
    last_touch_at: Mapped[datetime | None]
    last_contact_at: Mapped[datetime | None]
    next_follow_up: Mapped[date | None]
    meeting_on: Mapped[date | None]
    snoozed_until: Mapped[date | None]  # "Snooze 2 days" from the digest: left out until then
    # The rep touched the lead after the meeting reminder was raised: the reminder is done.
    meeting_reminded: Mapped[bool] = mapped_column(default=False)
    declined: Mapped[bool] = mapped_column(default=False)  # the latest touch is "not interested"
    # The last conversation a CRM import knew of: counted as two-way contact before Baton's own log,
    # so a deal at "Contract Sent" stays reached after the rep's first logged touch.
    crm_contact_at: Mapped[datetime | None]
    notes: Mapped[str | None] = mapped_column(Text)  # the lead's first note: a CRM's Notes column
    # The first two-way touch in Baton's log and the tries logged before it (every try, not one a
    # day): the weekly review's attempt curve reads these instead of every touch. Kept by
    # `refresh_progress` with the other progress columns; None until the lead is first reached.
    first_contact_at: Mapped[datetime | None]
    first_contact_tries: Mapped[int | None]

    touches: Mapped[list["Touch"]] = relationship(
        back_populates="lead", order_by="Touch.at", cascade="all, delete-orphan", passive_deletes=True
    )
    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="lead", order_by="Contact.added_at", cascade="all, delete-orphan", passive_deletes=True
    )


class Contact(Base):
    """A person at the lead's company; the newest one is who the rep is talking to now."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))
    is_decision_maker: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str | None] = mapped_column(String(254))  # RFC 5321's longest address
    phone: Mapped[str | None] = mapped_column(String(64))  # as written: "+1 555 0100", "(555) 010-0100 x12"
    added_by: Mapped[str] = mapped_column(USER)
    added_at: Mapped[datetime]

    lead: Mapped[Lead] = relationship(back_populates="contacts")


class Touch(Base):
    """One logged call, voicemail, email, reply or meeting."""

    __tablename__ = "touch"
    __table_args__ = (
        Index("ix_touch_lead_at", "lead_id", "at"),
        Index("ix_touch_team_at", "team_id", "at"),  # the weekly review reads a team's week of touches
        # Notes still kept, oldest first: the tidy blanks them after their keeping time without
        # reading the touches it blanked before (coaching/retention.py).
        Index(
            "ix_touch_note_kept",
            "logged_at",
            postgresql_where=text("note <> ''"),
            sqlite_where=text("note <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(USER)
    outcome: Mapped[str] = mapped_column(String(20))
    # when it happened (local noon of a back-dated day); the log is ordered by this
    at: Mapped[datetime]
    meeting_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(Text, default="")
    logged_at: Mapped[datetime]
    # the coaching tip given with it ("voicemail:1"), so the next tip on the lead can differ
    tip: Mapped[str | None] = mapped_column(String(40))
    # the lead's follow-up day when this touch was logged: the review counts it done on time or late
    due_on: Mapped[date | None]

    lead: Mapped[Lead] = relationship(back_populates="touches")


class StatusChange(Base):
    """A lead won, lost, parked or reopened: who did it, whose lead it was, and when.

    The lead row keeps only its current status; the weekly review counts last week's changes.
    """

    __tablename__ = "status_change"
    __table_args__ = (
        Index("ix_status_change_team_at", "team_id", "at"),
        # Deleting a lead checks its status changes (a foreign key): without it, a full scan per lead.
        Index("ix_status_change_lead", "lead_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(USER)  # the lead's owner at the time
    by: Mapped[str] = mapped_column(USER)
    status: Mapped[str] = mapped_column(String(16))  # the new status
    at: Mapped[datetime]


class Draft(Base):
    """A command Baton could not act on yet (unknown or ambiguous lead, a date to confirm).

    Kept so the buttons that resolve it can finish the job without the rep retyping a word.
    """

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    user_id: Mapped[str] = mapped_column(USER)
    command: Mapped[str] = mapped_column(String(32))
    lead_text: Mapped[str] = mapped_column(Text, default="")
    rest: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TeamSetting(Base):
    """A workspace's override of one coaching rule (the environment gives the defaults)."""

    __tablename__ = "team_setting"

    team_id: Mapped[str] = mapped_column(TEAM, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))
    updated_by: Mapped[str] = mapped_column(USER)
    updated_at: Mapped[datetime]


class TransferRequest(Base):
    """A request to move a lead to another owner, decided once by a manager.

    The decision is a conditional UPDATE on `status = 'pending'`, so two managers clicking at once,
    a double click, or Approve racing Reject end with exactly one decision on any backend.
    """

    __tablename__ = "transfer_request"
    __table_args__ = (
        Index("ix_transfer_request_team_status", "team_id", "status"),
        # At most one request waiting per lead, whatever races (migration 0010_one_pending_transfer).
        Index(
            "ux_transfer_request_one_pending",
            "lead_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    from_owner: Mapped[str] = mapped_column(USER)  # the owner when it was asked
    to_user: Mapped[str] = mapped_column(USER)
    requested_by: Mapped[str] = mapped_column(USER)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|approved|rejected|moot
    decided_by: Mapped[str | None] = mapped_column(USER)
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    resurfaced_at: Mapped[datetime | None]


class PostedMessage(Base):
    """Where Baton posted a message it must change later (each manager's copy of a request).

    Kept as channel + ts because `chat.update` never expires, unlike a response_url.
    """

    __tablename__ = "posted_message"
    __table_args__ = (Index("ix_posted_message_subject", "team_id", "subject", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    subject: Mapped[str] = mapped_column(String(32))  # "transfer" or "ops"
    subject_id: Mapped[int]
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime]


class OpsHandoff(Base):
    """A signed customer handed to operations; someone there claims it."""

    __tablename__ = "ops_handoff"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"), index=True)
    rep_id: Mapped[str] = mapped_column(USER)
    sold: Mapped[str] = mapped_column(Text, default="")
    timeline: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(USER)
    claimed_at: Mapped[datetime | None]


class Delivery(Base):
    """One scheduled message to one person for one local day: a digest, a weekly review.

    The unique key is the guarantee: a restart, a missed tick, a second clock process or a manual
    run can only claim a (person, kind, day) that nobody has claimed, so nothing is sent twice.
    """

    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "kind", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    user_id: Mapped[str] = mapped_column(USER)
    kind: Mapped[str] = mapped_column(String(16))  # "digest" | "review"
    local_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))  # claimed | queued | sent | empty | failed
    attempts: Mapped[int] = mapped_column(default=1)
    claimed_at: Mapped[datetime]  # renewed by its run before each recipient: a live run is never taken over
    owner: Mapped[str | None] = mapped_column(String(40))  # the run holding the claim
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))


class SeenEvent(Base):
    """Events API deliveries already handled: Slack retries an event it thinks was missed."""

    __tablename__ = "seen_event"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class Outbox(Base):
    """A message Baton owes someone, written in the same transaction as the change that owes it.

    Sent after the commit by handlers/courier.py, which records every outcome here. A post carries
    its own id in Slack message metadata, so when Slack's answer is lost (`unknown`, or `sending`
    past its lease because the sender died) the message is looked for before anything is re-sent.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    method: Mapped[str] = mapped_column(String(16))  # "post" | "update" | "reply"
    channel: Mapped[str] = mapped_column(String(32))  # a channel, or a person for a DM / an ephemeral
    ts: Mapped[str | None] = mapped_column(String(32))  # "update": the message to change
    response_url: Mapped[str | None] = mapped_column(Text)  # "reply": tried first while it is valid
    reply_in: Mapped[str | None] = mapped_column(String(32))  # "reply": the channel for chat.postEphemeral
    payload: Mapped[str] = mapped_column(Text)  # JSON: text, blocks
    # after a successful post: whose copy it is (a transfer request, an ops card, a delivery)
    subject: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[int | None]
    fallback: Mapped[str | None] = mapped_column(
        Text
    )  # JSON list of channels to post to if this fails for good
    # pending | sending | unknown | sent | failed | cancelled | dead (given up looking for a lost post)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    owner: Mapped[str | None] = mapped_column(String(40))  # the sender holding it while `sending`
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    sent_channel: Mapped[str | None] = mapped_column(String(32))
    sent_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    # A post in doubt is looked for in Slack between these two (conversations.history's oldest and
    # latest): when its first attempt in doubt began, and `lease_until`, when the last one ended.
    tried_at: Mapped[datetime | None]
    looked_before: Mapped[str | None] = mapped_column(
        String(32)
    )  # a long search's next page: older than this ts


class Inbox(Base):
    """A command, click, form or event Slack has had acknowledged, written before the acknowledgement.

    The unique `key` (the signed body's hash, or an event's id) makes a replay or a retry of the
    same request a no-op. The work marks the row done in its own transaction, so it happens once;
    a row left undone by a dead process is taken up again (`owner` and `lease_until`) on restart.
    """

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("key"), Index("ix_inbox_done_received", "done_at", "received_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    team_id: Mapped[str] = mapped_column(TEAM)
    user_id: Mapped[str] = mapped_column(USER)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # command | block_actions | view_submission | event_callback
    body: Mapped[str] = mapped_column(Text)  # the request as Bolt parsed it (JSON), to run it again
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    owner: Mapped[str | None] = mapped_column(String(40))  # the process working on it
    lease_until: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # done | failed | unhandled | dead
    retry_at: Mapped[datetime | None]  # after a passing error: not tried again before then


class Erasure(Base):
    """That a person's data was erased on request, and a fingerprint that keeps them from coming back.

    What was erased is not recorded. The fingerprint is a SHA-256 of the team and the person's
    normalised e-mail, of a person's name on a lead, or of a whole lead's name, so a later import or CRM sync can
    recognise the same person and leave them out without Baton keeping who they were.
    """

    __tablename__ = "erasure"
    __table_args__ = (Index("ix_erasure_team_fingerprint", "team_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    kind: Mapped[str] = mapped_column(String(16))  # "email" | "person" | "lead": what it fingerprints
    fingerprint: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime]


class TeamStatus(Base):
    """A workspace that uninstalled Baton (or revoked its bot token): nothing is sent, swept or synced
    for it, and after `delete_after` every row of it is deleted (coaching/workspaces.py). A reinstall
    before then removes this row and Baton picks up where it stopped. No row: the team is running."""

    __tablename__ = "team_status"

    team_id: Mapped[str] = mapped_column(TEAM, primary_key=True)
    uninstalled_at: Mapped[datetime]
    delete_after: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(32))  # app_uninstalled | tokens_revoked


class CrmSync(Base):
    """A team's connection to its CRM: where each incremental pull starts, and who is syncing now.

    Its existence is what makes Baton owe the CRM pushes: a team that never synced queues nothing.
    `run_owner`/`run_lease_until` let one process at a time pull for the team (several web processes
    and clocks may try at once); pushes are leased row by row in `crm_push`.
    """

    __tablename__ = "crm_sync"

    team_id: Mapped[str] = mapped_column(TEAM, primary_key=True)
    crm: Mapped[str] = mapped_column(String(16), primary_key=True)  # "hubspot"
    connected_at: Mapped[datetime]
    cursors: Mapped[str] = mapped_column(Text, default="{}")  # JSON: object type → ISO time to search from
    full_pull_at: Mapped[datetime | None]  # the first full pull finished: later pulls are incremental
    run_owner: Mapped[str | None] = mapped_column(String(40))
    run_lease_until: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]


class CrmConnection(Base):
    """A team's own CRM token (`python -m bot crm connect`), sealed at rest (bot/secrets.py): with
    many workspaces each syncs with its own CRM account; one workspace may use HUBSPOT_TOKEN instead."""

    __tablename__ = "crm_connection"
    __table_args__ = (UniqueConstraint("team_id", "crm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    crm: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(Text)  # sealed with BATON_SECRET_KEY's first key
    connected_at: Mapped[datetime]


class CrmLink(Base):
    """One CRM record and the Baton lead (and contact) it is: a deal, a contact, or an engagement
    logged in the CRM that became a touch.

    `stage` and `crm_owner` are the deal's stage and owner as of the last sync (pulled, or pushed by
    Baton): a pull that finds them changed knows HubSpot moved them (the conflict rule, README).
    `company` is the record's (primary) company in the CRM as last pulled, kept on the deal or
    contact rather than as a link of its own: a company with several open deals is several leads,
    and each one's touches and contacts go on the company.
    """

    __tablename__ = "crm_link"
    __table_args__ = (
        UniqueConstraint("team_id", "crm", "object_type", "crm_id"),
        Index("ix_crm_link_lead", "lead_id"),
        Index("ix_crm_link_contact", "contact_id"),  # a contact deleted: its links found, not scanned for
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    crm: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(16))  # deal | contact | calls | emails | meetings
    crm_id: Mapped[str] = mapped_column(String(32))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    stage: Mapped[str | None] = mapped_column(String(64))
    crm_owner: Mapped[str | None] = mapped_column(String(32))
    company: Mapped[str | None] = mapped_column(String(32))
    modified_at: Mapped[datetime | None]  # the record's modification time when last read
    archived: Mapped[bool] = mapped_column(default=False)


class CrmOwner(Base):
    """A CRM user who can own records, and the Slack person with the same e-mail (None: nobody)."""

    __tablename__ = "crm_owner"

    team_id: Mapped[str] = mapped_column(TEAM, primary_key=True)
    crm: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[str | None] = mapped_column(USER, index=True)


class CrmPush(Base):
    """Something Baton owes the CRM (a touch, a stage, an owner), written in the change's transaction.

    The outbox's discipline: taken under a lease by one sender, every outcome recorded; a push whose
    answer was lost (`unknown`, or `sending` past its lease) is looked for in the CRM before it is
    sent again, so each touch becomes exactly one engagement.
    """

    __tablename__ = "crm_push"
    __table_args__ = (
        Index("ix_crm_push_status_due", "status", "next_attempt_at"),
        Index("ix_crm_push_lead", "lead_id"),
        Index("ix_crm_push_touch", "touch_id"),  # a touch deleted: its pushes found, not scanned for
        UniqueConstraint("crm", "touch_id"),  # one engagement per touch, whatever retries
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(TEAM)
    crm: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # touch | stage | owner
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id", ondelete="CASCADE"))
    touch_id: Mapped[int | None] = mapped_column(ForeignKey("touch.id", ondelete="CASCADE"))
    value: Mapped[str | None] = mapped_column(String(64))  # stage: the lead's status; owner: the Slack id
    status: Mapped[str] = mapped_column(String(16))  # pending | sending | unknown | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    owner: Mapped[str | None] = mapped_column(String(40))  # the sender holding it while `sending`
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    crm_id: Mapped[str | None] = mapped_column(String(32))  # the engagement HubSpot made
    error: Mapped[str | None] = mapped_column(String(200))


# slack-sdk's installation and OAuth state tables live on this metadata too (Alembic creates them).
from store import installations as _installations  # noqa: E402, F401
