"""The try-out's HubSpot holds the demo team's pipeline, matched to the demo people by e-mail, and
`crm stage` / `crm owner` change it the way someone working in HubSpot would."""

from datetime import UTC, datetime

from hubspot import HubSpot as Client

from bot.tryout import seed
from bot.tryout.hubspot import TryoutHubSpot


def test_demo_team_in_hubspot_and_changes_made_there() -> None:
    said: list[str] = []
    side = TryoutHubSpot(clock=lambda: datetime(2026, 12, 7, 15, tzinfo=UTC), say=said.append).start()
    try:
        client = Client(access_token=side.token, host=side.url)
        owners = {o.email: o.id for o in client.crm.owners.owners_api.get_page().results}
        slack_emails = {p.to_slack(seed.TEAM_ID)["profile"]["email"] for p in seed.PEOPLE}
        assert set(owners) == slack_emails  # each owner is found in Slack by e-mail

        deals = client.crm.deals.basic_api.get_page(limit=100, properties=["dealname", "hubspot_owner_id"])
        names = {d.properties["dealname"] for d in deals.results}
        assert {story[1] for story in seed.STORIES} <= names
        assert {"Tyrell Corporation", "Oceanic Airlines"} <= names  # news for Baton's first pull

        tyrell = next(d for d in deals.results if d.properties["dealname"] == "Tyrell Corporation")
        calls = client.crm.associations.v4.basic_api.get_page("deals", tyrell.id, "calls")
        assert len(calls.results) == 2

        assert side.change(["stage", "acme", "closedwon"])
        assert side.change(["owner", "pied", "piper", "dana"])
        changed = client.crm.deals.basic_api.get_page(
            limit=100, properties=["dealname", "dealstage", "hubspot_owner_id"]
        )
        by_name = {d.properties["dealname"]: d.properties for d in changed.results}
        assert by_name["Acme Corp"]["dealstage"] == "closedwon"
        assert by_name["Pied Piper"]["hubspot_owner_id"] == side.owners[seed.DANA]
        assert side.change(["call", "tyrell", "connected"])  # a rep dialling from HubSpot
        calls = client.crm.associations.v4.basic_api.get_page("deals", tyrell.id, "calls")
        assert len(calls.results) == 3
        assert not side.change(["stage"])  # not a change: the caller shows help
        side.show()
        assert any("Closed Won" in line and "Acme Corp" in line for line in said)
    finally:
        side.stop()
