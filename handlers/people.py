"""Owners as a CRM export writes them (a Slack id, an e-mail, a name), found in the Slack workspace."""

import re
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from coaching.parsing import name_key
from coaching.people import Profile
from handlers.directory import everyone, profile_from_slack

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


def resolve_owners(
    client: WebClient | None, written: Iterable[str], known: Iterable[tuple[str, str]] = ()
) -> tuple[dict[str, str], dict[str, str]]:
    """Owners as a CRM export writes them (a Slack id, an e-mail, a name) → Slack user ids.

    Returns (found, why_not). Each distinct owner is looked up once: ids with users.info,
    e-mails with users.lookupByEmail, names against users.list (Salesforce's Lead Owner column
    holds a full name). Without a client (no token), Slack ids are taken on trust, names are
    matched against `known` (user id, name) pairs, and e-mails can't be looked up.
    """
    found: dict[str, str] = {}
    why_not: dict[str, str] = {}
    by_name: dict[str, set[str]] | None = None
    for raw in sorted(set(written)):
        if SLACK_USER.match(raw):
            _by_id(client, raw, found, why_not)
        elif "@" in raw:
            if client is None:
                why_not[raw] = "e-mails are looked up in Slack: set SLACK_BOT_TOKEN, or use Slack ids"
                continue
            try:
                found[raw] = str(client.users_lookupByEmail(email=raw)["user"]["id"])
            except SlackApiError:
                why_not[raw] = "no one in this Slack workspace has that e-mail"
        else:
            if by_name is None:
                by_name = _names_of_everyone(client, known)
            ids = sorted(by_name.get(name_key(raw), ()))
            if len(ids) == 1:
                found[raw] = ids[0]
            elif ids:
                why_not[raw] = f"{len(ids)} people in Slack go by that name: use their e-mail"
            else:
                why_not[raw] = (
                    "no one in this Slack workspace goes by that name: use their e-mail or Slack id"
                )
    return found, why_not


def profiles_of(client: WebClient | None, user_ids: Iterable[str]) -> list[Profile]:
    """Who these people are, one users.info each: for the few dozen owners of an import or export."""
    found: list[Profile] = []
    if client is None:
        return found
    for user_id in sorted(set(user_ids)):
        try:
            found.append(profile_from_slack(client.users_info(user=user_id)["user"]))
        except SlackApiError:
            continue  # the id is shown alone
    return found


def _by_id(client: WebClient | None, user_id: str, found: dict[str, str], why_not: dict[str, str]) -> None:
    if client is None:
        found[user_id] = user_id
        return
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError:
        why_not[user_id] = "no such person in this Slack workspace"
        return
    if user.get("deleted"):
        why_not[user_id] = "their Slack account is deactivated"
    else:
        found[user_id] = user_id


def _names_of_everyone(client: WebClient | None, known: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """name key → user ids, by every name a person goes by (real, display, handle); people, not bots."""
    names: dict[str, set[str]] = {}
    if client is None:
        for user_id, name in known:
            names.setdefault(name_key(name), set()).add(user_id)
        return names
    for user in everyone(client):
        if user.get("deleted") or user.get("is_bot") or user.get("id") == "USLACKBOT":
            continue
        profile = user.get("profile") or {}
        for called in {
            user.get("real_name"),
            user.get("name"),
            profile.get("real_name"),
            profile.get("display_name"),
        }:
            if called:
                names.setdefault(name_key(str(called)), set()).add(str(user["id"]))
    return names
