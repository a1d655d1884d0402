"""HubSpot's limits and failures as the stand-in serves them, read through the official client:
rolling burst limit with its headers, search's own per-second limit, 429 storms, 5xx, an outage,
answers lost after the write happened, search lag, scopes and tokens."""

import json

import pytest
import urllib3
from hubspot import HubSpot as Client
from hubspot.crm.deals import ApiException as DealsError
from hubspot.crm.objects import PublicObjectSearchRequest, SimplePublicObjectInputForCreate
from hubspot.crm.objects.notes import ApiException as NotesError
from hubspot.crm.owners import ApiException as OwnersError

from bot.localhubspot import HubSpot, LocalHubSpot
from tests.hubspot.conftest import Ticks


def test_every_answer_carries_the_rate_limit_headers(client: Client) -> None:
    _, status, headers = client.crm.deals.basic_api.get_page_with_http_info()
    assert status == 200
    assert headers["X-HubSpot-RateLimit-Max"] == "190"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "189"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert int(headers["X-HubSpot-RateLimit-Daily-Remaining"]) > 0


def test_burst_over_the_rolling_window_is_a_429_until_the_window_moves(ticks: Ticks) -> None:
    hubspot = HubSpot(burst_limit=3, clock=ticks)
    with LocalHubSpot(hubspot) as local:
        client = Client(access_token=hubspot.token, host=local.url)
        for _ in range(3):
            client.crm.deals.basic_api.get_page()
            ticks.advance(2)
        with pytest.raises(DealsError) as raised:
            client.crm.deals.basic_api.get_page()
        assert raised.value.status == 429
        body = json.loads(raised.value.body)
        assert (body["policyName"], body["errorType"]) == ("TEN_SECONDLY_ROLLING", "RATE_LIMIT")
        assert raised.value.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        ticks.advance(4.5)  # the first request leaves the 10-second window
        assert client.crm.deals.basic_api.get_page().results == []


def test_search_has_its_own_per_second_limit_without_headers(
    hubspot: HubSpot, client: Client, ticks: Ticks
) -> None:
    for _ in range(5):
        _, _, headers = client.crm.deals.search_api.do_search_with_http_info(PublicObjectSearchRequest())
        assert "X-HubSpot-RateLimit-Remaining" not in headers
    with pytest.raises(DealsError) as raised:
        client.crm.deals.search_api.do_search(PublicObjectSearchRequest())
    assert raised.value.status == 429
    client.crm.deals.basic_api.get_page()  # the burst limit is a different bucket
    ticks.advance(1)
    client.crm.deals.search_api.do_search(PublicObjectSearchRequest())


def test_a_storm_of_429s_then_service_resumes(hubspot: HubSpot, client: Client) -> None:
    hubspot.faults().rate_limit_storm(2)
    for _ in range(2):
        with pytest.raises(DealsError) as raised:
            client.crm.deals.basic_api.get_page()
        assert json.loads(raised.value.body)["policyName"] == "TEN_SECONDLY_ROLLING"
        assert "Retry-After" not in raised.value.headers  # HubSpot doesn't promise one
    assert client.crm.deals.basic_api.get_page().results == []


def test_a_429_with_retry_after_is_retried_by_the_clients_own_urllib3(
    hubspot: HubSpot, client: Client
) -> None:
    """urllib3's default Retry honours Retry-After on a 429 for GETs (not POSTs): worth knowing
    when counting requests against the burst limit."""
    hubspot.faults().rate_limit_storm(2, retry_after_s=0)
    assert client.crm.deals.basic_api.get_page().results == []
    hubspot.faults().rate_limit_storm(1, retry_after_s=0)
    with pytest.raises(DealsError) as raised:
        client.crm.deals.search_api.do_search(PublicObjectSearchRequest())
    assert raised.value.headers["Retry-After"] == "0"


def test_server_errors_change_nothing(hubspot: HubSpot, client: Client) -> None:
    hubspot.faults().server_errors(1, status=502)
    with pytest.raises(NotesError) as raised:
        client.crm.objects.notes.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"hs_timestamp": "1767225600000", "hs_note_body": "x"}
            )
        )
    assert raised.value.status == 502
    assert json.loads(raised.value.body)["status"] == "error"
    assert hubspot.objects("notes") == []


def test_down_until_the_clock_reaches_the_end_of_the_outage(
    hubspot: HubSpot, client: Client, ticks: Ticks
) -> None:
    hubspot.faults().down(until_clock=ticks.now + 600)
    with pytest.raises(DealsError) as raised:
        client.crm.deals.basic_api.get_page()
    assert raised.value.status == 503
    ticks.advance(599)
    with pytest.raises(DealsError):
        client.crm.deals.basic_api.get_page()
    ticks.advance(1)
    client.crm.deals.basic_api.get_page()


def test_a_dropped_answer_still_created_the_record_once(hubspot: HubSpot, client: Client) -> None:
    hubspot.faults().drop_after_write(1)
    note = SimplePublicObjectInputForCreate(
        properties={"hs_timestamp": "1767225600000", "hs_note_body": "Left a message"}
    )
    with pytest.raises(urllib3.exceptions.HTTPError):
        client.crm.objects.notes.basic_api.create(note)
    assert [n["properties"]["hs_note_body"] for n in hubspot.objects("notes")] == ["Left a message"]
    assert hubspot.faults().dropped == 1
    client.crm.objects.notes.basic_api.get_page()  # reads are never dropped; the next write answers
    client.crm.objects.notes.basic_api.create(note)
    assert len(hubspot.objects("notes")) == 2


def test_search_does_not_see_a_change_until_the_lag_has_passed(ticks: Ticks) -> None:
    hubspot = HubSpot(search_lag_s=5, clock=ticks)
    deal = hubspot.add_deal("Acme", stage="appointmentscheduled")
    ticks.advance(10)
    hubspot.update("deals", deal, dealstage="closedwon")
    won = PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]}],
        properties=["dealstage"],
    )
    with LocalHubSpot(hubspot) as local:
        client = Client(access_token=hubspot.token, host=local.url)
        assert client.crm.deals.search_api.do_search(won).total == 0
        everything = client.crm.deals.search_api.do_search(
            PublicObjectSearchRequest(properties=["dealstage"])
        )
        assert everything.results[0].properties["dealstage"] == "appointmentscheduled"  # the old version
        assert (
            client.crm.deals.basic_api.get_by_id(deal, properties=["dealstage"]).properties["dealstage"]
            == "closedwon"
        )
        ticks.advance(5)
        assert [d.id for d in client.crm.deals.search_api.do_search(won).results] == [deal]


def test_a_missing_scope_is_hubspots_403(hubspot: HubSpot, client: Client) -> None:
    hubspot.scopes.discard("crm.objects.owners.read")
    with pytest.raises(OwnersError) as raised:
        client.crm.owners.owners_api.get_page()
    assert raised.value.status == 403
    body = json.loads(raised.value.body)
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.owners.read"]


def test_a_wrong_token_is_a_401(hubspot: HubSpot, local: LocalHubSpot) -> None:
    client = Client(access_token="pat-na1-wrong", host=local.url)
    with pytest.raises(DealsError) as raised:
        client.crm.deals.basic_api.get_page()
    assert raised.value.status == 401
    assert json.loads(raised.value.body)["category"] == "INVALID_AUTHENTICATION"
