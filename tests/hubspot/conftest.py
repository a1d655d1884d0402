"""A stand-in HubSpot on a free port, and the official client pointed at it."""

from collections.abc import Iterator

import pytest
from hubspot import HubSpot as Client

from bot.localhubspot import HubSpot, LocalHubSpot


class Ticks:
    """The stand-in's clock for limits, faults and search lag; tests move it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def hubspot(ticks: Ticks) -> HubSpot:
    return HubSpot(clock=ticks)


@pytest.fixture
def local(hubspot: HubSpot) -> Iterator[LocalHubSpot]:
    with LocalHubSpot(hubspot) as running:
        yield running


@pytest.fixture
def client(hubspot: HubSpot, local: LocalHubSpot) -> Client:
    # The client copies each keyword onto every API's Configuration: `host` is the base URL.
    return Client(access_token=hubspot.token, host=local.url)
