"""HubSpot's side of the CRM port (coaching/crm_mapping.py), through the official `hubspot-api-client`.

It sits in bot/ beside the Slack client (bot/slack.py): an adapter to an outside service, wired by
the entry points. Every call goes through `_call`, which paces requests inside HubSpot's limits (a
rolling burst window learned from the `X-HubSpot-RateLimit-*` headers, and search's few requests a
second), waits out a 429 as told, retries 423/5xx and dropped connections on reads, and never
repeats a create blindly: a create whose answer was lost is reported as unknown, and the caller
looks for it (by the touch id it carries) before creating it again.

Answers are read raw (`_preload_content=False`): the sync needs the rate-limit headers, and 100,000
engagements parsed into generated model objects would cost time and memory for nothing.
"""

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import urllib3
from hubspot import HubSpot
from hubspot.crm.associations.v4.exceptions import ApiException as AssociationsError
from hubspot.crm.objects.exceptions import ApiException as ObjectsError
from hubspot.crm.owners.exceptions import ApiException as OwnersError
from hubspot.crm.pipelines.exceptions import ApiException as PipelinesError
from hubspot.crm.properties.exceptions import ApiException as PropertiesError
from urllib3.util.retry import Retry

from coaching.crm_mapping import (
    CONTACT_ID_PROPERTY,
    LEAD_ID_PROPERTY,
    TOUCH_ID_PROPERTY,
    ContactOut,
    CrmCompany,
    CrmDeal,
    CrmEngagement,
    CrmOwner,
    CrmPerson,
    CrmStage,
    DealChange,
    DealOut,
    EngagementKind,
    EngagementOut,
    PushResult,
)

log = logging.getLogger(__name__)
API_ERRORS = (ObjectsError, OwnersError, PipelinesError, AssociationsError, PropertiesError)
LOST = (urllib3.exceptions.HTTPError, OSError)  # no answer, or half of one
PAGE = 100  # list and batch endpoints
SEARCH_PAGE = 200
SEARCH_CAP = 10_000  # HubSpot answers 400 past the 10,000th result of one search query
TIMEOUT = 30
RATE_LIMITED_TRIES = 100  # 429s in a row on one call before the sync gives up until its next run

DEAL_PROPS = [
    "dealname",
    "dealstage",
    "pipeline",
    "hubspot_owner_id",
    "createdate",
    "hs_lastmodifieddate",
    "closed_lost_reason",
]
PERSON_PROPS = [
    "firstname",
    "lastname",
    "email",
    "phone",
    "jobtitle",
    "hs_lead_status",
    "hubspot_owner_id",
    "hs_email_optout",
    "lastmodifieddate",
]
HISTORY_PROPS = {
    EngagementKind.CALL: ["hs_timestamp", "hs_call_disposition", TOUCH_ID_PROPERTY],
    EngagementKind.EMAIL: ["hs_timestamp", "hs_email_direction", TOUCH_ID_PROPERTY],
    EngagementKind.MEETING: ["hs_timestamp", TOUCH_ID_PROPERTY],
}
# HubSpot-defined association type ids: engagement → contact, company, deal.
ASSOCIATION = {
    EngagementKind.CALL: (194, 182, 206),
    EngagementKind.EMAIL: (198, 186, 210),
    EngagementKind.MEETING: (200, 188, 212),
    EngagementKind.NOTE: (202, 190, 214),
}
PRIMARY_COMPANY = 5  # deal → company, primary
PRIMARY_CONTACT_COMPANY = 1  # contact → company, primary


class HubSpotRefused(Exception):
    """HubSpot said no for good (a bad token, a missing scope): one line saying which."""


class MissingScope(HubSpotRefused):
    """The private app lacks a scope this call needs (403)."""


class HubSpotUnavailable(Exception):
    """HubSpot didn't answer after the retries (down, or the daily limit used up): try again later."""


class Lost(Exception):
    """A write whose answer was lost: it may have landed."""


class Pacer:
    """Keeps requests inside HubSpot's rolling burst window and search's per-second limit.

    The window's size comes from the answers' `X-HubSpot-RateLimit-Max` and `-Interval-Milliseconds`
    (search answers carry none); until one is seen, the Free/Starter figure (100 per 10 s) is used.
    """

    def __init__(
        self,
        *,
        burst: int = 100,
        window_s: float = 10.0,
        search_per_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.burst, self.window_s, self.search_per_s = burst, window_s, search_per_s
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()
        self.searches: deque[float] = deque()
        self.waited = 0.0
        self.requests = 0
        # One pacer per process, shared by its threads (a web process's pusher, Socket Mode's clock):
        # taking a slot in the window is one step, so two threads never both take the last one.
        self.lock = threading.Lock()

    def before(self, *, search: bool) -> None:
        with self.lock:
            self._wait(self.sent, max(1, self.burst - 2), self.window_s)  # a margin for clock skew
            if search:
                self._wait(self.searches, max(1, int(self.search_per_s)), 1.0)
                self.searches.append(self.clock())
            self.sent.append(self.clock())
            self.requests += 1

    def _wait(self, sent: deque[float], limit: int, window: float) -> None:
        now = self.clock()
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) >= limit:
            pause = sent[len(sent) - limit] + window - now
            if pause > 0:
                self.pause(pause)
            now = self.clock()
            while sent and sent[0] <= now - window:
                sent.popleft()

    def pause(self, seconds: float) -> None:
        self.waited += seconds
        self.sleep(seconds)

    def learn(self, headers: Any) -> None:
        try:
            limit = headers.get("X-HubSpot-RateLimit-Max")
            interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
            remaining = headers.get("X-HubSpot-RateLimit-Remaining")
        except AttributeError:
            return
        if limit and str(limit).isdigit():
            self.burst = int(limit)
        if interval and str(interval).isdigit():
            self.window_s = int(interval) / 1000
        if remaining is not None and str(remaining).isdigit() and int(remaining) <= 1:
            # HubSpot's own count says the window is spent (other clients share it): let it roll.
            self.pause(self.window_s / max(1, self.burst) * 2)


def _ms(value: datetime) -> str:
    return str(int(value.astimezone(UTC).timestamp() * 1000))


def _time(raw: Any) -> datetime | None:
    if not raw:
        return None
    text = str(raw)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _error_text(error: Exception) -> tuple[int, str, dict[str, Any]]:
    status = int(getattr(error, "status", 0) or 0)
    body: dict[str, Any] = {}
    raw = getattr(error, "body", None)
    if raw:
        try:
            parsed = json.loads(raw)
            body = parsed if isinstance(parsed, dict) else {}
        except (TypeError, ValueError):
            body = {}
    return status, str(body.get("message") or getattr(error, "reason", "") or "no message"), body


class HubSpotCrm:
    """The CRM port for one HubSpot account (a private app's token)."""

    name = "hubspot"

    def __init__(
        self,
        token: str,
        *,
        api_url: str | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 6,
    ) -> None:
        options: dict[str, Any] = {"access_token": token, "retry": Retry(total=0, raise_on_status=False)}
        if api_url:
            options["host"] = api_url.rstrip("/")
        client = HubSpot(**options)
        # Each property access builds a new API client (and connection pool): build each once.
        self.objects = client.crm.objects.basic_api
        self.batch = client.crm.objects.batch_api
        self.search_api = client.crm.objects.search_api
        self.owners_api = client.crm.owners.owners_api
        self.pipelines_api = client.crm.pipelines.pipelines_api
        self.associations = client.crm.associations.v4.batch_api
        self.properties = client.crm.properties.core_api
        self.pacer = pacer or Pacer(sleep=sleep)
        self.attempts = attempts

    # ---- one call -------------------------------------------------------------------------------------

    def _call(
        self, call: Callable[..., Any], *args: Any, search: bool = False, write: bool = False, **kwargs: Any
    ) -> Any:
        """One API call, paced and retried as HubSpot asks; its JSON answer. A 429 is waited out and
        doesn't count as a failed try (up to RATE_LIMITED_TRIES of them); errors and silences do."""
        backoff = 1.0
        failures = limited = 0
        while failures < self.attempts and limited < RATE_LIMITED_TRIES:
            self.pacer.before(search=search)
            try:
                response = call(*args, _preload_content=False, _request_timeout=TIMEOUT, **kwargs)
            except API_ERRORS as error:
                status, message, body = _error_text(error)
                if status == 401:
                    raise HubSpotRefused(f"HubSpot refused the token (401): {message}") from None
                if status == 403:
                    raise MissingScope(
                        f"HubSpot refused: the private app lacks a scope (403): {message}"
                    ) from None
                if status == 429:
                    limited += 1
                    self._rate_limited(error, body, limited)
                    continue
                if status == 423 or status >= 500:
                    if write and status >= 500 and status != 503:
                        raise Lost(f"HubSpot answered {status} to a write: {message}") from None
                    failures += 1
                    self.pacer.pause(2.0 if status == 423 else backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                raise
            except LOST as error:
                if write:
                    raise Lost(f"HubSpot's answer was lost: {error.__class__.__name__}") from None
                failures += 1
                self.pacer.pause(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self.pacer.learn(response.headers)
            data = response.data
            return json.loads(data) if data else {}
        raise HubSpotUnavailable(f"HubSpot did not answer after {self.attempts} tries")

    def _rate_limited(self, error: Exception, body: dict[str, Any], attempt: int) -> None:
        headers = getattr(error, "headers", None) or {}
        policy = str(body.get("policyName") or "")
        if policy == "DAILY":
            raise HubSpotUnavailable("HubSpot's daily request limit is used up; the sync carries on tomorrow")
        self.pacer.learn(headers)
        retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
        try:
            wait = float(retry_after) if retry_after else 0.0
        except ValueError:
            wait = 0.0
        # Without Retry-After (HubSpot doesn't promise one), let the rolling window move on.
        self.pacer.pause(wait or min(self.pacer.window_s, 1.0 * attempt))

    # ---- reading -----------------------------------------------------------------------------------

    def owners(self) -> list[CrmOwner]:
        found: list[CrmOwner] = []
        after: str | None = None
        while True:
            page = self._call(self.owners_api.get_page, limit=PAGE, after=after, archived=False)
            for row in page.get("results", []):
                name = " ".join(p for p in (row.get("firstName") or "", row.get("lastName") or "") if p)
                found.append(CrmOwner(str(row["id"]), (row.get("email") or "").strip().lower(), name))
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found

    def stages(self) -> list[CrmStage]:
        answer = self._call(self.pipelines_api.get_all, "deals")
        stages: list[CrmStage] = []
        for pipeline in answer.get("results", []):
            for stage in pipeline.get("stages", []):
                meta = stage.get("metadata") or {}
                probability = meta.get("probability")
                stages.append(
                    CrmStage(
                        id=str(stage["id"]),
                        pipeline=str(pipeline["id"]),
                        label=str(stage.get("label") or stage["id"]),
                        order=int(stage.get("displayOrder") or 0),
                        closed=str(meta.get("isClosed", "false")).lower() == "true",
                        probability=float(probability) if probability not in (None, "") else None,
                    )
                )
        return stages

    def _list(
        self, object_type: str, properties: list[str], *, archived: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        while True:
            page = self._call(
                self.objects.get_page,
                object_type,
                limit=PAGE,
                after=after,
                properties=properties,
                archived=archived,
            )
            yield page.get("results", [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _search(
        self, object_type: str, modified: str, since: datetime, properties: list[str]
    ) -> Iterator[list[dict[str, Any]]]:
        """Everything modified since `since`, oldest first. Past 10,000 results one query can't page,
        so the filter moves up to the last modification time seen and a new query starts there."""
        start = since
        while True:
            after: str | None = None
            seen = 0
            last: datetime | None = None
            while True:
                request: dict[str, Any] = {
                    "filterGroups": [
                        {"filters": [{"propertyName": modified, "operator": "GTE", "value": _ms(start)}]}
                    ],
                    "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                    "properties": properties,
                    "limit": SEARCH_PAGE,
                }
                if after:
                    request["after"] = after
                page = self._call(
                    self.search_api.do_search, object_type, public_object_search_request=request, search=True
                )
                results = page.get("results", [])
                yield results
                seen += len(results)
                if results:
                    last = _time((results[-1].get("properties") or {}).get(modified)) or last
                after = ((page.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    return
                if seen + SEARCH_PAGE > SEARCH_CAP:
                    break
            if last is None or last <= start:
                # 10,000 records changed in the same millisecond: nothing to move the filter by.
                log.warning(
                    "HubSpot search: over %s %s changed at %s; the rest waits for a full pull",
                    SEARCH_CAP,
                    object_type,
                    start,
                )
                return
            start = last  # GTE: the records at `last` are read again, which is harmless

    def _associated(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[tuple[str, set[int]]]]:
        """v4 batch read: each id's associated ids with their type ids (207 when some have none)."""
        found: dict[str, list[tuple[str, set[int]]]] = {}
        for chunk in _chunks(list(ids), PAGE):
            answer = self._call(
                self.associations.get_page,
                from_type,
                to_type,
                batch_input_public_fetch_associations_batch_request={"inputs": [{"id": i} for i in chunk]},
            )
            for row in answer.get("results", []):
                source = str((row.get("from") or {}).get("id"))
                found[source] = [
                    (
                        str(to["toObjectId"]),
                        {int(t.get("typeId", 0)) for t in to.get("associationTypes") or []},
                    )
                    for to in row.get("to") or []
                ]
        return found

    def _read(self, object_type: str, ids: Sequence[str], properties: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(list(ids), PAGE):
            answer = self._call(
                self.batch.read,
                object_type,
                batch_read_input_simple_public_object_id={
                    "inputs": [{"id": i} for i in chunk],
                    "properties": properties,
                },
                archived=False,
            )
            rows.extend(answer.get("results", []))
        return rows

    def deals(self, *, since: datetime | None) -> Iterator[list[CrmDeal]]:
        pages = (
            self._list("deals", DEAL_PROPS)
            if since is None
            else self._search("deals", "hs_lastmodifieddate", since, DEAL_PROPS)
        )
        for rows in pages:
            if not rows:
                continue
            ids = [str(r["id"]) for r in rows]
            contacts = self._associated("deals", "contacts", ids)
            companies = self._associated("deals", "companies", ids)
            yield [
                self._deal(row, contacts.get(str(row["id"]), []), companies.get(str(row["id"]), []))
                for row in rows
            ]

    @staticmethod
    def _deal(
        row: dict[str, Any], contacts: list[tuple[str, set[int]]], companies: list[tuple[str, set[int]]]
    ) -> CrmDeal:
        p = row.get("properties") or {}
        primary = next((cid for cid, types in companies if PRIMARY_COMPANY in types), None)
        return CrmDeal(
            id=str(row["id"]),
            name=str(p.get("dealname") or ""),
            stage=str(p.get("dealstage") or ""),
            pipeline=str(p.get("pipeline") or "default"),
            owner=str(p["hubspot_owner_id"]) if p.get("hubspot_owner_id") else None,
            created_at=_time(p.get("createdate") or row.get("createdAt")),
            modified_at=_time(p.get("hs_lastmodifieddate") or row.get("updatedAt")),
            closed_lost_reason=str(p.get("closed_lost_reason") or ""),
            company=primary or (companies[0][0] if companies else None),
            contacts=tuple(cid for cid, _ in contacts),
        )

    def people(self, *, since: datetime | None) -> Iterator[list[CrmPerson]]:
        pages = (
            self._list("contacts", PERSON_PROPS)
            if since is None
            else self._search("contacts", "lastmodifieddate", since, PERSON_PROPS)
        )
        for rows in pages:
            if rows:
                yield self._people(rows)

    def people_by_id(self, ids: Sequence[str]) -> list[CrmPerson]:
        return self._people(self._read("contacts", ids, PERSON_PROPS)) if ids else []

    def _people(self, rows: list[dict[str, Any]]) -> list[CrmPerson]:
        # Only people with a lead status can become prospects: look up companies for those alone.
        wanted = [str(r["id"]) for r in rows if (r.get("properties") or {}).get("hs_lead_status")]
        companies = self._associated("contacts", "companies", wanted) if wanted else {}
        people = []
        for row in rows:
            p = row.get("properties") or {}
            links = companies.get(str(row["id"]), [])
            primary = next((cid for cid, types in links if PRIMARY_CONTACT_COMPANY in types), None)
            people.append(
                CrmPerson(
                    id=str(row["id"]),
                    first=str(p.get("firstname") or ""),
                    last=str(p.get("lastname") or ""),
                    email=str(p.get("email") or ""),
                    phone=str(p.get("phone") or ""),
                    title=str(p.get("jobtitle") or ""),
                    lead_status=str(p.get("hs_lead_status") or ""),
                    owner=str(p["hubspot_owner_id"]) if p.get("hubspot_owner_id") else None,
                    opted_out=str(p.get("hs_email_optout") or "").lower() == "true",
                    modified_at=_time(p.get("lastmodifieddate") or row.get("updatedAt")),
                    company=primary or (links[0][0] if links else None),
                )
            )
        return people

    def companies(self, ids: Sequence[str]) -> list[CrmCompany]:
        return [
            CrmCompany(str(r["id"]), str((r.get("properties") or {}).get("name") or ""))
            for r in self._read("companies", sorted(set(ids)), ["name"])
        ]

    def archived(self, object_type: str) -> Iterator[list[str]]:
        for rows in self._list(object_type, ["hs_object_id"], archived=True):
            yield [str(r["id"]) for r in rows]

    def history(self, *, since: datetime | None = None) -> Iterator[list[CrmEngagement]]:
        """Every call, e-mail and meeting (or those changed since `since`, searched) with the deals
        and contacts it belongs to, a page at a time."""
        for kind, properties in HISTORY_PROPS.items():
            wanted = [*properties, "hubspot_owner_id", "hs_createdate"]
            pages = (
                self._search(kind.value, "hs_lastmodifieddate", since, wanted)
                if since is not None
                else self._list(kind.value, wanted)
            )
            for rows in pages:
                if not rows:
                    continue
                ids = [str(r["id"]) for r in rows]
                deals = self._associated(kind.value, "deals", ids)
                contacts = self._associated(kind.value, "contacts", ids) if since is not None else {}
                page = []
                for row in rows:
                    p = row.get("properties") or {}
                    at = _time(p.get("hs_timestamp") or row.get("createdAt"))
                    if at is None:
                        continue
                    page.append(
                        CrmEngagement(
                            id=str(row["id"]),
                            kind=kind,
                            at=at,
                            disposition=str(p.get("hs_call_disposition") or ""),
                            incoming=str(p.get("hs_email_direction") or "") == "INCOMING_EMAIL",
                            deals=tuple(d for d, _ in deals.get(str(row["id"]), [])),
                            ours=bool(p.get(TOUCH_ID_PROPERTY)),
                            owner=str(p.get("hubspot_owner_id") or "") or None,
                            created_at=_time(p.get("hs_createdate") or row.get("createdAt")),
                            contacts=tuple(c for c, _ in contacts.get(str(row["id"]), [])),
                        )
                    )
                yield page

    # ---- writing -----------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Each engagement type gets Baton's touch id as a unique property, and deals Baton's lead
        id: the marker that lets a create whose answer was lost be found again (and that HubSpot
        refuses to repeat). Asked again by a new process before it creates a deal: a team synced
        before deals were created from Slack has no deal marker yet."""
        marked = [(kind.value, TOUCH_ID_PROPERTY, "activity", "touch") for kind in EngagementKind]
        records = [
            ("deals", LEAD_ID_PROPERTY, "deal", "lead"),
            ("contacts", CONTACT_ID_PROPERTY, "contact", "contact"),
        ]
        for object_type, name, thing, what in [*marked, *records]:
            try:
                self._call(self.properties.get_by_name, object_type, name)
                continue
            except PropertiesError as error:
                if int(getattr(error, "status", 0) or 0) != 404:
                    raise
            self._call(
                self.properties.create,
                object_type,
                property_create={
                    "name": name,
                    "label": f"Baton {what} id",
                    "description": f"The Slack-logged {what} this {thing} is (set by Baton, unique)",
                    "groupName": f"{object_type[:-1]}information",
                    "type": "string",
                    "fieldType": "text",
                    "hasUniqueValue": True,
                },
            )

    def create_engagements(
        self, items: Sequence[EngagementOut], *, push_ids: dict[int, int]
    ) -> list[PushResult]:
        results: list[PushResult] = []
        for kind in EngagementKind:
            for chunk in _chunks([item for item in items if item.kind is kind], PAGE):
                results.extend(
                    self._create(kind.value, TOUCH_ID_PROPERTY, _marked_engagements(kind, chunk, push_ids))
                )
        return results

    def find_engagements(
        self, items: Sequence[EngagementOut], *, push_ids: dict[int, int]
    ) -> list[PushResult]:
        """Which of these touches HubSpot already has (read by the unique touch id, not searched:
        search lags). Found: recorded as sent. Not found: created now."""
        results: list[PushResult] = []
        for kind in EngagementKind:
            for chunk in _chunks([item for item in items if item.kind is kind], PAGE):
                results.extend(
                    self._find(kind.value, TOUCH_ID_PROPERTY, _marked_engagements(kind, chunk, push_ids))
                )
        return results

    def create_deals(self, deals: Sequence[DealOut]) -> list[PushResult]:
        return [
            result
            for chunk in _chunks(list(deals), PAGE)
            for result in self._create("deals", LEAD_ID_PROPERTY, _marked_deals(chunk))
        ]

    def find_deals(self, deals: Sequence[DealOut]) -> list[PushResult]:
        """Which of these leads HubSpot already has a deal for (by the unique lead id); the rest are created."""
        return [
            result
            for chunk in _chunks(list(deals), PAGE)
            for result in self._find("deals", LEAD_ID_PROPERTY, _marked_deals(chunk))
        ]

    def upsert_contacts(self, contacts: Sequence[ContactOut]) -> list[PushResult]:
        """Contacts added or changed in Slack: upserted by e-mail (HubSpot's own key for people:
        someone HubSpot already has is updated, not duplicated), or by Baton's contact id when the
        rep gave no e-mail; then put on the deal and the company (HubSpot's default association
        each: making one again leaves one). Repeating it changes nothing more, so a lost answer is
        simply tried again."""
        results: list[PushResult] = []
        for key, group in (
            ("email", [c for c in contacts if c.email]),
            (CONTACT_ID_PROPERTY, [c for c in contacts if not c.email]),
        ):
            for chunk in _chunks(group, PAGE):
                results.extend(self._upsert_contacts(key, chunk))
        return results

    def _upsert_contacts(self, key: str, contacts: list[ContactOut]) -> list[PushResult]:
        def id_of(contact: ContactOut) -> str:
            return (contact.email or "").casefold() if key == "email" else str(contact.contact_id)

        inputs = [
            {
                "idProperty": key,
                "id": id_of(c),
                "properties": {**c.properties, **({key: id_of(c)} if key != "email" else {})},
            }
            for c in contacts
        ]
        try:
            answer = self._call(
                self.batch.upsert,
                "contacts",
                batch_input_simple_public_object_batch_input_upsert={"inputs": inputs},
                write=True,
            )
            by_key = {
                str((row.get("properties") or {}).get(key) or "").casefold(): str(row["id"])
                for row in answer.get("results", [])
            }
            self._associate(
                "deals", [(by_key[id_of(c)], c.deal) for c in contacts if c.deal and id_of(c) in by_key]
            )
            self._put_on_companies(
                [(by_key[id_of(c)], c.company) for c in contacts if c.company and id_of(c) in by_key]
            )
        except Lost as lost:
            return [PushResult(c.push_id, error=str(lost), retry=True) for c in contacts]
        except (HubSpotUnavailable, *API_ERRORS) as error:
            status, message, _ = _error_text(error) if isinstance(error, API_ERRORS) else (0, str(error), {})
            retry = isinstance(error, HubSpotUnavailable) or status in (0, 429) or status >= 500
            return [PushResult(c.push_id, error=f"{status}: {message}"[:200], retry=retry) for c in contacts]
        return [
            PushResult(c.push_id, crm_id=by_key[id_of(c)])
            if id_of(c) in by_key
            else PushResult(c.push_id, error="HubSpot upserted no contact for it", retry=True)
            for c in contacts
        ]

    def _associate(self, to_type: str, pairs: list[tuple[str, str]]) -> None:
        """Contacts put on records of `to_type` with HubSpot's default association, 100 a call."""
        for chunk in _chunks(pairs, PAGE):
            self._call(
                self.associations.create_default,
                "contacts",
                to_type,
                batch_input_public_default_association_multi_post={
                    "inputs": [{"from": {"id": contact}, "to": {"id": to}} for contact, to in chunk]
                },
                write=True,
            )

    def _put_on_companies(self, pairs: list[tuple[str, str]]) -> None:
        """Contacts (upserted, on their deals) put on their leads' companies. The company is an
        addition, never a reason to hold a contact back: a company HubSpot refuses (deleted or
        merged since the last pull) or a private app without the companies write scope leaves the
        contact on its deal alone, and the log says why. Lost answers and 5xx still go to the caller."""
        for chunk in _chunks(pairs, PAGE):
            try:
                self._associate("companies", chunk)
            except MissingScope as refused:
                log.warning(
                    "Contacts pushed without their company (add crm.objects.companies.write): %s", refused
                )
                return
            except API_ERRORS:
                # One refused company refuses the whole call: the others go one at a time.
                for contact, company in chunk:
                    try:
                        self._associate("companies", [(contact, company)])
                    except API_ERRORS as error:
                        status, message, _ = _error_text(error)
                        log.warning(
                            "Contact %s pushed without its company %s: HubSpot answered %s: %s",
                            contact,
                            company,
                            status,
                            message,
                        )

    def _create(self, object_type: str, marker: str, items: list["_Marked"]) -> list[PushResult]:
        """One batch create of records that each carry their own id in the unique `marker` property."""
        body = {"inputs": [item.body for item in items]}
        try:
            answer = self._call(
                self.batch.create,
                object_type,
                batch_input_simple_public_object_batch_input_for_create=body,
                write=True,
            )
        except Lost as lost:
            return [PushResult(item.push_id, error=str(lost), unknown=True) for item in items]
        except (HubSpotUnavailable, *API_ERRORS) as error:
            status, message, _ = _error_text(error) if isinstance(error, API_ERRORS) else (0, str(error), {})
            if status == 409 or "already has that value" in message or "unique" in message.lower():
                # HubSpot already holds a record with one of these markers: find them first.
                return [PushResult(item.push_id, error=message, unknown=True) for item in items]
            retry = isinstance(error, HubSpotUnavailable) or status in (0, 429) or status >= 500
            return [
                PushResult(item.push_id, error=f"{status}: {message}"[:200], retry=retry) for item in items
            ]
        made = {
            str((row.get("properties") or {}).get(marker)): str(row["id"])
            for row in answer.get("results", [])
        }
        errors = " / ".join(str(e.get("message")) for e in answer.get("errors") or [])
        return [
            PushResult(item.push_id, crm_id=made[item.key])
            if item.key in made
            else PushResult(
                item.push_id,
                error=errors[:200] or f"HubSpot created no {object_type[:-1]} for it",
                unknown=True,
            )
            for item in items
        ]

    def _find(self, object_type: str, marker: str, items: list["_Marked"]) -> list[PushResult]:
        """Read these records by their marker (a batch read, not a search: search lags); create
        the ones HubSpot doesn't have."""
        answer = self._call(
            self.batch.read,
            object_type,
            batch_read_input_simple_public_object_id={
                "idProperty": marker,
                "inputs": [{"id": item.key} for item in items],
                "properties": [marker],
            },
            archived=False,
        )
        found = {
            str((row.get("properties") or {}).get(marker)): str(row["id"])
            for row in answer.get("results", [])
        }
        missing = [item for item in items if item.key not in found]
        return [PushResult(item.push_id, crm_id=found[item.key]) for item in items if item.key in found] + (
            self._create(object_type, marker, missing) if missing else []
        )

    def change_deals(self, changes: Sequence[DealChange]) -> list[PushResult]:
        """Stages and owners, a batch update each 100 (setting a property twice is harmless)."""
        results: list[PushResult] = []
        for chunk in _chunks(list(changes), PAGE):
            body = {"inputs": [{"id": c.deal, "properties": c.properties} for c in chunk]}
            try:
                answer = self._call(
                    self.batch.update, "deals", batch_input_simple_public_object_batch_input=body
                )
            except (HubSpotUnavailable, *API_ERRORS) as error:
                status, message, _ = (
                    _error_text(error) if isinstance(error, API_ERRORS) else (0, str(error), {})
                )
                retry = isinstance(error, HubSpotUnavailable) or status >= 500 or status == 429
                results.extend(
                    PushResult(c.push_id, error=f"{status}: {message}"[:200], retry=retry) for c in chunk
                )
                continue
            done = {str(row["id"]) for row in answer.get("results", [])}
            results.extend(
                PushResult(c.push_id, crm_id=c.deal)
                if c.deal in done
                else PushResult(c.push_id, error="HubSpot did not update the deal", retry=True)
                for c in chunk
            )
        return results


@dataclass(frozen=True)
class _Marked:
    """One record to create, with the id it carries in its marker property (what finds it again)."""

    push_id: int
    key: str
    body: dict[str, Any]


def _marked_engagements(
    kind: EngagementKind, items: list[EngagementOut], push_ids: dict[int, int]
) -> list[_Marked]:
    to_contact, to_company, to_deal = ASSOCIATION[kind]

    def associations(item: EngagementOut) -> list[dict[str, Any]]:
        # A prospect's touch has no deal: it goes on the contact and the company alone.
        pairs = [(c, to_contact) for c in item.contacts]
        if item.deal:
            pairs.insert(0, (item.deal, to_deal))
        if item.company:
            pairs.append((item.company, to_company))
        return [
            {
                "to": {"id": target},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
            }
            for target, type_id in pairs
        ]

    return [
        _Marked(
            push_ids[item.touch_id],
            str(item.touch_id),
            {"properties": item.properties, "associations": associations(item)},
        )
        for item in items
    ]


def _marked_deals(deals: list[DealOut]) -> list[_Marked]:
    return [_Marked(deal.push_id, str(deal.lead_id), {"properties": deal.properties}) for deal in deals]


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
