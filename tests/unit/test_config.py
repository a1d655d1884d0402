"""Settings from the environment: the mode follows the credentials, every problem is named at once."""

from datetime import time

import pytest

from bot.config import ConfigError, Mode, load_settings
from coaching.settings import BadValue, days_text, parse_channel, parse_days

TOKENS = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def test_no_credentials_means_the_local_try_out_on_a_sqlite_file() -> None:
    settings = load_settings({})
    assert settings.mode is Mode.TRYOUT
    assert settings.database_url == "sqlite:///baton.db"
    assert settings.rules.follow_up_days == 4


def test_the_mode_follows_the_credentials() -> None:
    assert load_settings(TOKENS).mode is Mode.HTTP
    assert load_settings({**TOKENS, "SLACK_APP_TOKEN": "xapp-1"}).mode is Mode.SOCKET
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}).mode is Mode.SOCKET


def test_every_problem_is_reported_at_once_naming_each_setting() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            {"SLACK_BOT_TOKEN": "xoxp-user", "COACH_STALL_DAYS": "two weeks", "COACH_DIGEST_TIME": "25:00"}
        )
    message = str(raised.value)
    assert message.startswith("Baton can't start:")
    assert "\n" not in message
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "COACH_STALL_DAYS", "COACH_DIGEST_TIME"):
        assert name in message


def test_contradictory_coaching_numbers_are_refused() -> None:
    with pytest.raises(ConfigError, match="must rise in that order"):
        load_settings({"COACH_ATTEMPTS_LIMIT": "20"})


def test_rule_numbers_and_team_defaults_are_read() -> None:
    settings = load_settings(
        {
            "COACH_FOLLOW_UP_DAYS": "3",
            "COACH_MANAGER_IDS": "U0AAA, U0BBB",
            "COACH_DIGEST_TIME": "07:45",
            "COACH_DIGEST_DAYS": "sun-thu",
            "COACH_OPS_CHANNEL": "C0OPS",
        }
    )
    assert settings.rules.follow_up_days == 3
    assert settings.manager_ids == {"U0AAA", "U0BBB"}
    assert settings.team.digest_time == time(7, 45)
    assert settings.team.digest_days == {6, 0, 1, 2, 3}
    assert settings.team.ops_channel == "C0OPS"


def test_the_postgres_url_scheme_some_hosts_give_is_accepted() -> None:
    settings = load_settings({"DATABASE_URL": "postgres://u:p@db.example.com:5432/baton"})
    assert settings.database_url == "postgresql+psycopg://u:p@db.example.com:5432/baton"


def test_the_web_api_url_always_ends_with_a_slash() -> None:
    assert load_settings({"SLACK_API_URL": "http://127.0.0.1:9/api"}).api_url == "http://127.0.0.1:9/api/"
    with pytest.raises(ConfigError, match="SLACK_API_URL"):
        load_settings({"SLACK_API_URL": "slack.com"})


def test_manager_ids_must_be_slack_user_ids() -> None:
    with pytest.raises(ConfigError, match="COACH_MANAGER_IDS"):
        load_settings({"COACH_MANAGER_IDS": "jane@example.com"})


def test_channels_and_days_are_read_as_slack_sends_and_people_write_them() -> None:
    assert parse_channel("<#C0123|sales-managers>") == "C0123"
    assert parse_channel("none") is None
    assert parse_days("mon,wed,fri") == {0, 2, 4}
    with pytest.raises(BadValue):
        parse_channel("#sales")
    with pytest.raises(BadValue):
        parse_days("weekdays")


def test_commands_that_only_call_slack_need_just_the_bot_token() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is missing"):
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert load_settings({"SLACK_BOT_TOKEN": "xoxb-1"}, serving=False).bot_token == "xoxb-1"
    with pytest.raises(ConfigError, match="xoxb-"):
        load_settings({"SLACK_BOT_TOKEN": "xoxp-user"}, serving=False)  # a bad token is still bad


@pytest.mark.parametrize(
    "written", ["mon-fri", "sun-thu", "mon,wed,fri", "mon-wed,fri", "sat,sun", "mon-sun", "fri-mon"]
)
def test_working_days_are_shown_the_way_they_are_written_and_read_back(written: str) -> None:
    assert days_text(parse_days(written)) == written


OAUTH = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret",
    "SLACK_SIGNING_SECRET": "s",
    "BATON_SECRET_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # installation tokens are sealed
}


def test_a_client_id_and_secret_switch_to_installs_from_a_link() -> None:
    settings = load_settings(OAUTH)
    assert settings.mode is Mode.OAUTH
    assert (settings.client_id, settings.client_secret, settings.bot_token) == (
        "1111.2222",
        "client-secret",
        None,
    )
    assert settings.token_refresh_minutes == 120


def test_oauth_settings_that_contradict_each_other_are_all_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(
            {
                "SLACK_CLIENT_ID": "1111.2222",
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_APP_TOKEN": "xapp-1",
                "HUBSPOT_TOKEN": "pat-1",
                "SLACK_REDIRECT_URI": "not a url",
            }
        )
    message = str(raised.value)
    for name in (
        "SLACK_CLIENT_SECRET is missing",
        "SLACK_BOT_TOKEN can't be used with SLACK_CLIENT_ID",
        "SLACK_APP_TOKEN (Socket Mode) serves one workspace",
        "SLACK_SIGNING_SECRET is missing",
        "HUBSPOT_TOKEN serves one workspace",
        "SLACK_REDIRECT_URI must be",
    ):
        assert name in message, name
