"""Requests still waiting for a manager: shown again on the managers' mornings, or closed as moot."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from coaching.calendar import in_send_window, local_date, working_days_between
from coaching.digest_records import Kind, Recipient, claim_for_today
from coaching.handoff_results import TransferSnapshot, TransferStatus, transfer_snapshot
from coaching.people import managers, own_workdays, zone
from coaching.rules import CLOSED, Status
from coaching.settings import TeamConfig, team_config
from coaching.transfers import settle
from store import queries
from store.models import TransferRequest

RESURFACE_AFTER_WORKING_DAYS = 2


@dataclass(frozen=True)
class Waiting:
    """A request to show the managers again, or one closed because its lead moved on meanwhile."""

    team_id: str
    transfer: TransferSnapshot
    managers: tuple[str, ...]
    manager_channel: str | None


def sweep_waiting(
    session: Session, *, now: datetime, defaults: TeamConfig
) -> tuple[list[Waiting], list[Waiting]]:
    """Requests to re-surface and requests now moot.

    A request waiting for a decision is shown to each manager again on their own working
    morning (their digest time, in their time zone, on their working days) once it has waited 2
    of their working days, and every 2 working days after that; once a day at most. A team with
    a managers' channel is reminded there on its first manager's morning. A manager Baton has no
    profile for yet is left for a later tick (the clock looks them up: never a guessed UTC morning).

    Returns (resurface, mooted); the caller posts and updates the messages after the commit.
    """
    resurface: list[Waiting] = []
    mooted: list[Waiting] = []
    due: dict[tuple[str, str], list[TransferRequest]] = {}  # (team, manager or channel) -> requests
    recipients: dict[tuple[str, str], Recipient] = {}
    contexts: dict[str, tuple[TeamConfig, tuple[str, ...]]] = {}
    for transfer in queries.handoffs.pending_transfers(session):
        if transfer.team_id not in contexts:
            config = team_config(session, team_id=transfer.team_id, defaults=defaults)
            team_managers = tuple(managers(session, team_id=transfer.team_id, configured=config.manager_ids))
            contexts[transfer.team_id] = (config, team_managers)
        config, team_managers = contexts[transfer.team_id]
        lead = queries.leads.lead(
            session, team_id=transfer.team_id, lead_id=transfer.lead_id, for_update=True
        )
        assert lead is not None
        if Status(lead.status) in CLOSED or lead.owner_id != transfer.from_owner:
            if settle(session, transfer, status=TransferStatus.MOOT, by="baton", now=now, note=None):
                snapshot = transfer_snapshot(session, transfer, now=now, rules=config.rules)
                mooted.append(Waiting(transfer.team_id, snapshot, team_managers, config.manager_channel))
            continue
        audience = team_managers[:1] if config.manager_channel else team_managers
        for manager in audience:
            rep = queries.people.rep(session, team_id=transfer.team_id, user_id=manager)
            if rep is None:
                continue
            tz = zone(rep.tz)
            workdays = own_workdays(rep.workdays) or config.digest_days
            local_now = now.astimezone(tz)
            if not in_send_window(local_now, at=config.digest_time, workdays=workdays):
                continue
            waited = working_days_between(local_date(transfer.created_at, tz), local_now.date(), workdays)
            if waited >= RESURFACE_AFTER_WORKING_DAYS and waited % RESURFACE_AFTER_WORKING_DAYS == 0:
                key = (transfer.team_id, config.manager_channel or manager)
                due.setdefault(key, []).append(transfer)
                recipients[key] = Recipient(transfer.team_id, key[1], rep.tz, local_now.date(), workdays)
    # Once a day per manager (or channel), whatever the number of ticks in their morning.
    taken = claim_for_today(session, list(recipients.values()), kind=Kind.REMINDERS, now=now)
    told: dict[int, list[str]] = {}
    requests: dict[int, TransferRequest] = {}
    for recipient in taken:
        for transfer in due[recipient.key]:
            told.setdefault(transfer.id, []).append(recipient.user_id)
            requests[transfer.id] = transfer
    for transfer_id, people in told.items():
        transfer = requests[transfer_id]
        config, _ = contexts[transfer.team_id]
        transfer.resurfaced_at = now
        snapshot = transfer_snapshot(session, transfer, now=now, rules=config.rules)
        if config.manager_channel:
            resurface.append(
                Waiting(transfer.team_id, snapshot, contexts[transfer.team_id][1], config.manager_channel)
            )
        else:
            resurface.append(Waiting(transfer.team_id, snapshot, tuple(people), None))
    return resurface, mooted
