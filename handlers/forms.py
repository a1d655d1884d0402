"""Opening Baton's forms from any listener: `views.open` must use the trigger within 3 seconds of the click."""

from slack_sdk import WebClient

from coaching import leads
from coaching.calendar import local_date
from handlers.blocks.logcall import logcall_modal
from handlers.deps import Deps


def open_logcall_form(
    deps: Deps,
    client: WebClient,
    trigger_id: str,
    team_id: str,
    user_id: str,
    channel_id: str | None,
    lead_id: int | None = None,
    *,
    refresh: tuple[str, str] | None = None,
    home: bool = False,
) -> None:
    """Open the /logcall modal, optionally for one lead. The trigger lives 3 seconds: nothing slow first."""
    tz = deps.directory.zone(client, team_id, user_id)
    lead = None
    if lead_id is not None:
        with deps.db.readers.begin() as session:
            lead = leads.lead_label(session, team_id=team_id, lead_id=lead_id)
    view = logcall_modal(
        today=local_date(deps.clock(), tz), channel_id=channel_id, lead=lead, refresh=refresh, home=home
    )
    client.views_open(trigger_id=trigger_id, view=view)
