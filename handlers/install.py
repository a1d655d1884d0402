"""A workspace has just installed Baton: its installer becomes its first manager and is welcomed by DM.

Called from the OAuth redirect's success page (bot/install.py), after Bolt saved the installation.
The welcome is owed through the outbox in the same transaction that makes the installer a manager,
then sent: like every message Baton owes, it is retried if Slack doesn't take it now.
"""

from slack_sdk import WebClient

from coaching.settings import make_first_manager
from handlers import outbox
from handlers.blocks.install import welcome
from handlers.courier import Courier
from handlers.deps import Deps


def welcome_installer(deps: Deps, client: WebClient, *, team_id: str, user_id: str, team_name: str) -> bool:
    """Returns whether the installer became the workspace's first manager (a reinstall where
    managers are already listed leaves them as they are)."""
    with deps.bookkeeping() as session:
        made = make_first_manager(
            session, team_id=team_id, user_id=user_id, configured=deps.defaults.manager_ids, now=deps.clock()
        )
        owed = outbox.post(
            session, team_id, user_id, welcome(user_id, team_name=team_name, manager=made), deps=deps
        )
    Courier(deps, client).send([owed])
    return made
