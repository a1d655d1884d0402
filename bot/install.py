"""Install from a link: Bolt's OAuth v2 flow at /slack/install and /slack/oauth_redirect, and the pages a person sees.

Bolt does the protocol: a state issued at /slack/install (kept in the state store and in a cookie
of the browser that asked), Slack's authorize page, the code exchanged with `oauth.v2.access`,
the installation saved (bot/installations.py). Baton adds what the person sees: a plain page
when it worked (and a welcome DM; the installer becomes the workspace's first manager) or why it
didn't, in words: a cancelled install, a link used twice or opened in another browser, a link
past its ten minutes.

Enterprise Grid: Baton installs per workspace. An org-wide install is refused with a page saying
so (its data model is one workspace per `team_id`; an org-wide token would speak for many).
"""

import html
import logging

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.error import BoltError
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Installation

from bot.installations import STATE_EXPIRES_SECONDS, Installations
from bot.localslack.scopes import manifest_scopes
from bot.slack import make_client
from handlers.deps import Deps
from handlers.install import welcome_installer

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
ORG_WIDE = "org_wide_install"

# Why an install didn't happen, in the words of the person who tried. Keys: Bolt's failure reasons,
# and Slack's `error` on the redirect (access_denied: they clicked Cancel).
WHY = {
    "access_denied": (
        "Install cancelled",
        "Baton wasn't added to your workspace. If that was a slip, start again from the install link.",
    ),
    "invalid_browser": (
        "This install link belongs to another browser",
        "For your workspace's safety an install must finish in the browser that started it. "
        "Open the install link again here.",
    ),
    "invalid_state": (
        "This install link has expired or was already used",
        "Each install link works once, for ten minutes. Open the install link again to start over.",
    ),
    "missing_code": (
        "Slack didn't say who approved the install",
        "Start again from the install link.",
    ),
    "invalid_code": (
        "Slack didn't confirm the install",
        "The approval may have expired or been used already. Start again from the install link.",
    ),
    ORG_WIDE: (
        "Baton installs per workspace",
        "Baton can't be installed across a whole Enterprise Grid organisation. Install it in each "
        "workspace that wants it (your org admin can allow that), from the install link.",
    ),
    "storage_error": (
        "Baton couldn't save the install",
        "Nothing was changed. Try again in a minute; if it keeps failing, tell whoever runs Baton.",
    ),
}


class BatonOAuthFlow(OAuthFlow):
    """Bolt's flow, refusing org-wide installs before anything is saved."""

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        if installation.is_enterprise_install:
            # Slack has already issued the token: revoked, so nothing can speak for the whole
            # organisation with a token Baton never kept.
            for token in (installation.bot_token, installation.user_token):
                if token:
                    try:
                        self.client.auth_revoke(token=token)
                    except Exception:
                        log.exception("Couldn't revoke the token of a refused org-wide install")
            raise BoltError(ORG_WIDE)
        super().store_installation(request, installation)


def page(title: str, body: str, *, status: int) -> BoltResponse:
    text = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · Baton</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}</style>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    )
    return BoltResponse(
        status=status,
        body=text,
        headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
    )


def oauth_flow(
    *,
    client_id: str,
    client_secret: str,
    installations: Installations,
    deps: Deps,
    api_url: str,
    redirect_uri: str | None,
    refresh_minutes: int,
) -> BatonOAuthFlow:
    """Bolt's OAuth flow on Baton's stores, asking for manifest.yml's bot scopes (one source of truth)."""

    def succeeded(args: SuccessArgs) -> BoltResponse:
        installed = args.installation
        team = installed.team_name or "your workspace"
        try:
            welcome_installer(
                deps,
                make_client(installed.bot_token, api_url),
                team_id=str(installed.team_id),
                user_id=installed.user_id,
                team_name=installed.team_name or "",
            )
        except Exception:
            # The install itself is saved; the welcome can wait for the outbox's next sweep.
            log.exception("Couldn't welcome the installer of workspace %s", installed.team_id)
        log.info("Baton was installed in workspace %s by %s", installed.team_id, installed.user_id)
        return page(
            "Baton is installed",
            f"Baton is now part of {team}. Look in Slack: Baton has sent you a message saying "
            "what to do next. You can close this page.",
            status=200,
        )

    def failed(args: FailureArgs) -> BoltResponse:
        reason = str(args.error) if args.error is not None and str(args.error) == ORG_WIDE else args.reason
        title, body = WHY.get(reason, ("The install didn't finish", "Start again from the install link."))
        log.info("An install didn't finish: %s", reason)
        status = 403 if reason == ORG_WIDE else args.suggested_status_code
        return page(title, body, status=status)

    settings = OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=sorted(manifest_scopes()),
        user_scopes=[],
        redirect_uri=redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        # Slack's authorize page lives beside its Web API (slack.com/oauth/v2/authorize beside
        # slack.com/api/); pointed at the stand-in, so is this.
        authorization_url=api_url.removesuffix("/").removesuffix("/api") + "/oauth/v2/authorize",
        callback_options=CallbackOptions(success=succeeded, failure=failed),
        installation_store=installations.store,
        installation_store_bot_only=True,
        state_store=installations.states,
        state_expiration_seconds=STATE_EXPIRES_SECONDS,
        token_rotation_expiration_minutes=refresh_minutes,
        # Straight to Slack's authorize page (a page of our own with one button adds a click).
        install_page_rendering_enabled=False,
    )
    return BatonOAuthFlow(client=make_client(None, api_url), logger=log, settings=settings)
