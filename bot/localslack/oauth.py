"""Installing an app the OAuth v2 way, as Slack does it: the authorize page, `oauth.v2.access`, and tokens per workspace.

A test (or the try-out) registers the app (`register_app`), adds workspaces (`add_workspace`),
says who is signed in to the browser (`sign_in`), and follows the authorize URL Baton's
/slack/install sends it to: the stand-in answers with a redirect to the app's redirect URL
carrying a one-time `code` (or `error=access_denied` when the person cancels). Exchanging the
code with `oauth.v2.access` gives a bot token for that workspace; with token rotation on, the
token expires after `lifetime` seconds of Slack's clock and a `refresh_token` gets a new one
(`grant_type=refresh_token`). Every Web API call is then answered for the token's workspace,
with its scopes; an expired token is refused with `token_expired`, a revoked one with
`token_revoked`, an unknown one with `invalid_auth`, as Slack does.

Shapes follow Slack's `oauth.v2.access` reference and what slack-bolt's OAuth flow and
slack-sdk's TokenRotator read from the answer.
"""

import base64
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from bot.localslack.core import Core
from bot.localslack.model import Workspace

CODE_LIFETIME = 600  # Slack: an authorization code is good for ten minutes, and once
DEFAULT_LIFETIME = 43200  # Slack: a rotating token lives twelve hours


@dataclass
class RegisteredApp:
    client_id: str
    client_secret: str
    app_id: str
    redirect_uri: str | None
    rotation: bool
    lifetime: int


@dataclass
class Grant:
    """What an authorization code stands for until it is exchanged."""

    team_id: str
    user_id: str
    scopes: frozenset[str]
    redirect_uri: str | None
    issued: float
    enterprise_id: str | None = None


@dataclass
class Issued:
    """A token Slack issued: whose it is, what it may do, until when."""

    team_id: str
    scopes: frozenset[str]
    expires_at: float | None = None
    revoked: bool = False
    refresh_token: str | None = None


@dataclass
class SignedIn:
    team_id: str
    user_id: str
    approves: bool = True
    enterprise_id: str | None = None  # set: the person installs org-wide (Enterprise Grid)


@dataclass
class OAuthState:
    apps: dict[str, RegisteredApp] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, Issued] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> team id
    signed_in: SignedIn | None = None


class OAuthMethods(Core):
    """The authorize page, `oauth.v2.access`, and which workspace each token speaks for."""

    _oauth: OAuthState
    _serial = itertools.count(1)

    # ---- test controls ---------------------------------------------------------------------------
    def register_app(
        self,
        client_id: str,
        client_secret: str,
        *,
        redirect_uri: str | None = None,
        rotation: bool = False,
        lifetime: int = DEFAULT_LIFETIME,
        app_id: str = "A0BATON",
    ) -> None:
        """The app as set up at api.slack.com: its credentials, redirect URL and token rotation."""
        with self._lock:
            self._oauth_state().apps[client_id] = RegisteredApp(
                client_id, client_secret, app_id, redirect_uri, rotation, lifetime
            )

    def add_workspace(self, workspace: Workspace) -> Workspace:
        with self._lock:
            self.workspaces[workspace.team_id] = workspace
            return workspace

    def sign_in(
        self, team_id: str, user_id: str, *, approves: bool = True, enterprise_id: str | None = None
    ) -> None:
        """Who the browser following the authorize URL is signed in as, and whether they click Allow."""
        with self._lock:
            self._oauth_state().signed_in = SignedIn(team_id, user_id, approves, enterprise_id)

    def revoke(self, team_id: str) -> None:
        """Every token of the workspace stops working (the app was uninstalled, or its tokens revoked)."""
        with self._lock:
            for issued in self._oauth_state().tokens.values():
                if issued.team_id == team_id:
                    issued.revoked = True

    def tokens_of(self, team_id: str) -> list[str]:
        """The workspace's tokens still working, oldest first."""
        with self._lock:
            now = self.clock()
            return [
                token
                for token, issued in self._oauth_state().tokens.items()
                if issued.team_id == team_id
                and not issued.revoked
                and (issued.expires_at is None or issued.expires_at > now)
            ]

    def revoked(self, token: str) -> bool:
        """Whether a token this stand-in issued has been revoked."""
        with self._lock:
            issued = self._oauth_state().tokens.get(token)
            return issued is not None and issued.revoked

    # ---- auth.revoke -------------------------------------------------------------------------------
    def _auth_revoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        """The token the call is made with stops working (`test` only says whether it would)."""
        testing = str(args.get("test") or "").lower() in ("1", "true")
        issued = self._oauth_state().tokens.get(token)
        if issued is None:
            if token and token == self.token and testing:
                return {"ok": True, "revoked": True}
            if token and token == self.token:
                self.problems.append("auth.revoke of the single configured token isn't modelled")
            return {"ok": False, "error": "invalid_auth"}
        if not testing:
            issued.revoked = True
        return {"ok": True, "revoked": True}

    # ---- the browser's side ------------------------------------------------------------------------
    def _authorize_page(self, query: str) -> tuple[int, dict[str, str], dict[str, Any]]:
        """GET /oauth/v2/authorize: the person signed in approves (or cancels); a redirect either way."""
        args = dict(parse_qsl(query))
        with self._lock:
            state = self._oauth_state()
            app = state.apps.get(args.get("client_id", ""))
            if app is None:
                return 400, {}, {"ok": False, "error": "invalid_client_id"}
            redirect = args.get("redirect_uri") or app.redirect_uri
            if redirect is None:
                return 400, {}, {"ok": False, "error": "no_redirect_uri"}
            if app.redirect_uri and urlparse(redirect)[:3] != urlparse(app.redirect_uri)[:3]:
                return 400, {}, {"ok": False, "error": "bad_redirect_uri"}
            who = state.signed_in
            answer: dict[str, str] = {"state": args.get("state", "")}
            if who is None or not who.approves:
                answer["error"] = "access_denied"
            else:
                scopes = frozenset(s for s in args.get("scope", "").split(",") if s)
                if not scopes:
                    return 400, {}, {"ok": False, "error": "invalid_scope"}
                code = f"{next(self._serial)}.{secrets.token_hex(8)}"
                state.grants[code] = Grant(
                    who.team_id,
                    who.user_id,
                    scopes,
                    args.get("redirect_uri"),
                    self.clock(),
                    who.enterprise_id,
                )
                answer["code"] = code
            separator = "&" if urlparse(redirect).query else "?"
            return 302, {"Location": redirect + separator + urlencode(answer)}, {}

    # ---- oauth.v2.access ---------------------------------------------------------------------------
    def _oauth_v2_access(self, args: dict[str, Any], authorization: str) -> dict[str, Any]:
        state = self._oauth_state()
        client_id, client_secret = str(args.get("client_id") or ""), str(args.get("client_secret") or "")
        if authorization.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                return {"ok": False, "error": "invalid_client_id"}
        app = state.apps.get(client_id)
        if app is None:
            return {"ok": False, "error": "invalid_client_id"}
        if not secrets.compare_digest(app.client_secret, client_secret):
            return {"ok": False, "error": "bad_client_secret"}
        grant_type = str(args.get("grant_type") or "authorization_code")
        if grant_type == "refresh_token":
            return self._refresh(app, str(args.get("refresh_token") or ""))
        if grant_type != "authorization_code":
            return {"ok": False, "error": "invalid_grant_type"}
        grant = state.grants.pop(str(args.get("code") or ""), None)  # a code works once
        if grant is None or self.clock() - grant.issued > CODE_LIFETIME:
            return {"ok": False, "error": "invalid_code"}
        if grant.redirect_uri is not None and args.get("redirect_uri") != grant.redirect_uri:
            return {"ok": False, "error": "bad_redirect_uri"}
        workspace = self.workspaces.get(grant.team_id)
        if workspace is None:
            return {"ok": False, "error": "invalid_code"}
        answer = self._issue(app, workspace, grant.scopes, enterprise_id=grant.enterprise_id)
        answer["authed_user"] = {"id": grant.user_id}
        return answer

    def _refresh(self, app: RegisteredApp, refresh_token: str) -> dict[str, Any]:
        state = self._oauth_state()
        team_id = state.refresh.get(refresh_token)
        if team_id is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        issued = next(
            (i for i in state.tokens.values() if i.refresh_token == refresh_token and not i.revoked), None
        )
        if issued is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        # Slack keeps the refresh token; the old access token works until it expires.
        return self._issue(app, self.workspaces[team_id], issued.scopes, refresh_token=refresh_token)

    def _issue(
        self,
        app: RegisteredApp,
        workspace: Workspace,
        scopes: frozenset[str],
        *,
        enterprise_id: str | None = None,
        refresh_token: str | None = None,
    ) -> dict[str, Any]:
        state = self._oauth_state()
        serial = next(self._serial)
        token = (
            f"xoxe.xoxb-1-{workspace.team_id}-{serial}-{secrets.token_hex(6)}"
            if app.rotation
            else f"xoxb-{workspace.team_id}-{serial}-{secrets.token_hex(6)}"
        )
        issued = Issued(workspace.team_id, scopes)
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": app.app_id,
            "access_token": token,
            "token_type": "bot",
            "scope": ",".join(sorted(scopes)),
            "bot_user_id": workspace.bot_user_id,
            "team": {"id": workspace.team_id, "name": workspace.team_name},
            "enterprise": {"id": enterprise_id, "name": "Org"} if enterprise_id else None,
            "is_enterprise_install": enterprise_id is not None,
        }
        if app.rotation:
            refresh_token = refresh_token or f"xoxe-1-{workspace.team_id}-{secrets.token_hex(8)}"
            issued.expires_at = self.clock() + app.lifetime
            issued.refresh_token = refresh_token
            state.refresh[refresh_token] = workspace.team_id
            answer |= {"refresh_token": refresh_token, "expires_in": app.lifetime}
        state.tokens[token] = issued
        return answer

    # ---- every other method ------------------------------------------------------------------------
    def _token_refusal(self, token: str) -> tuple[str | None, Workspace | None, frozenset[str] | None]:
        """(error, the token's workspace, its scopes) for a token this stand-in issued by OAuth;
        (None, None, None) for one it didn't (the single-token setup decides on those)."""
        issued = self._oauth_state().tokens.get(token)
        if issued is None:
            return None, None, None
        if issued.revoked:
            return "token_revoked", None, None
        if issued.expires_at is not None and self.clock() >= issued.expires_at:
            return "token_expired", None, None
        return None, self.workspaces[issued.team_id], issued.scopes

    def _oauth_state(self) -> OAuthState:
        state: OAuthState | None = getattr(self, "_oauth", None)
        if state is None:
            state = self._oauth = OAuthState()
        return state
