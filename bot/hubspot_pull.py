"""Reading from HubSpot for the pull: owners, pipelines, record pages and searches, their associations."""

import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.hubspot_client import PAGE, HubSpotClient, chunks
from coaching.crm_mapping import (
    TOUCH_ID_PROPERTY,
    CrmCompany,
    CrmDeal,
    CrmEngagement,
    CrmOwner,
    CrmPerson,
    CrmStage,
    EngagementKind,
)

log = logging.getLogger(__name__)
SEARCH_PAGE = 200
SEARCH_CAP = 10_000  # HubSpot answers 400 past the 10,000th result of one search query

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
PRIMARY_COMPANY = 5  # deal → company, primary
PRIMARY_CONTACT_COMPANY = 1  # contact → company, primary


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


class HubSpotPull(HubSpotClient):
    """What the pull reads from one HubSpot account."""

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
        for chunk in chunks(list(ids), PAGE):
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
        for chunk in chunks(list(ids), PAGE):
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
