"""Writing to HubSpot for the push: contact upserts, deal and engagement creates with markers, associations."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hubspot.crm.properties.exceptions import ApiException as PropertiesError

from bot.hubspot_client import (
    API_ERRORS,
    PAGE,
    HubSpotClient,
    HubSpotUnavailable,
    Lost,
    MissingScope,
    chunks,
    error_text,
)
from coaching.crm_mapping import (
    CONTACT_ID_PROPERTY,
    LEAD_ID_PROPERTY,
    TOUCH_ID_PROPERTY,
    ContactOut,
    DealChange,
    DealOut,
    EngagementKind,
    EngagementOut,
    PushResult,
)

log = logging.getLogger(__name__)
# HubSpot-defined association type ids: engagement → contact, company, deal.
ASSOCIATION = {
    EngagementKind.CALL: (194, 182, 206),
    EngagementKind.EMAIL: (198, 186, 210),
    EngagementKind.MEETING: (200, 188, 212),
    EngagementKind.NOTE: (202, 190, 214),
}


class HubSpotPush(HubSpotClient):
    """What the push writes to one HubSpot account."""

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
            for chunk in chunks([item for item in items if item.kind is kind], PAGE):
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
            for chunk in chunks([item for item in items if item.kind is kind], PAGE):
                results.extend(
                    self._find(kind.value, TOUCH_ID_PROPERTY, _marked_engagements(kind, chunk, push_ids))
                )
        return results

    def create_deals(self, deals: Sequence[DealOut]) -> list[PushResult]:
        return [
            result
            for chunk in chunks(list(deals), PAGE)
            for result in self._create("deals", LEAD_ID_PROPERTY, _marked_deals(chunk))
        ]

    def find_deals(self, deals: Sequence[DealOut]) -> list[PushResult]:
        """Which of these leads HubSpot already has a deal for (by the unique lead id); the rest are created."""
        return [
            result
            for chunk in chunks(list(deals), PAGE)
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
            for chunk in chunks(group, PAGE):
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
            self._associate_each(
                "deals", [(by_key[id_of(c)], c.deal) for c in contacts if c.deal and id_of(c) in by_key]
            )
            self._put_on_companies(
                [(by_key[id_of(c)], c.company) for c in contacts if c.company and id_of(c) in by_key]
            )
        except Lost as lost:
            return [PushResult(c.push_id, error=str(lost), retry=True) for c in contacts]
        except (HubSpotUnavailable, *API_ERRORS) as error:
            status, message, _ = error_text(error) if isinstance(error, API_ERRORS) else (0, str(error), {})
            retry = isinstance(error, HubSpotUnavailable) or status in (0, 429) or status >= 500
            return [PushResult(c.push_id, error=f"{status}: {message}"[:200], retry=retry) for c in contacts]
        return [
            PushResult(c.push_id, crm_id=by_key[id_of(c)])
            if id_of(c) in by_key
            else PushResult(c.push_id, error="HubSpot upserted no contact for it", retry=True)
            for c in contacts
        ]

    def _associate(self, to_type: str, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Contacts put on records of `to_type` with HubSpot's default association, 100 a call; the
        `errors` HubSpot listed in its 2xx answers (a multi-status answer: the other pairs were made)."""
        refused: list[dict[str, Any]] = []
        for chunk in chunks(pairs, PAGE):
            answer = self._call(
                self.associations.create_default,
                "contacts",
                to_type,
                batch_input_public_default_association_multi_post={
                    "inputs": [{"from": {"id": contact}, "to": {"id": to}} for contact, to in chunk]
                },
                write=True,
            )
            refused.extend(error for error in answer.get("errors") or [] if isinstance(error, dict))
        return refused

    def _put_on_companies(self, pairs: list[tuple[str, str]]) -> None:
        """Contacts (upserted, on their deals) put on their leads' companies. The company is an
        addition, never a reason to hold a contact back: a company HubSpot refuses is left out (see
        `_associate_each`), and a private app without the companies write scope leaves every
        contact on its deal alone; the log says why. Lost answers and 5xx still go to the caller."""
        try:
            self._associate_each("companies", pairs)
        except MissingScope as refused:
            log.warning(
                "Contacts pushed without their company (add crm.objects.companies.write): %s", refused
            )

    def _associate_each(self, to_type: str, pairs: list[tuple[str, str]]) -> None:
        """Contacts (upserted, so they exist in HubSpot) put on records of `to_type`, 100 a call.
        HubSpot answers a record it refuses (deleted or merged since the last pull) one of two ways:
        a 400 for the whole call, whose pairs are then sent one at a time, or a multi-status answer
        that made the other pairs and lists the refused ones in `errors`. Either way only the contact
        whose record is refused goes without it, it is still pushed, and the log names the record
        and HubSpot's reason. Lost answers, 5xx and missing scopes still go to the caller."""
        for chunk in chunks(pairs, PAGE):
            try:
                listed = self._associate(to_type, chunk)
            except API_ERRORS:
                listed = []
                for contact, to in chunk:
                    try:
                        listed += self._associate(to_type, [(contact, to)])
                    except API_ERRORS as error:
                        status, message, _ = error_text(error)
                        _refused(to_type, [(contact, to)], str(status), message)
            for refusal in listed:
                answered = f"{refusal.get('category') or 'an error'} in a multi-status answer"
                _refused(to_type, _named(refusal, chunk), answered, str(refusal.get("message") or ""))

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
            status, message, _ = error_text(error) if isinstance(error, API_ERRORS) else (0, str(error), {})
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
        for chunk in chunks(list(changes), PAGE):
            body = {"inputs": [{"id": c.deal, "properties": c.properties} for c in chunk]}
            try:
                answer = self._call(
                    self.batch.update, "deals", batch_input_simple_public_object_batch_input=body
                )
            except (HubSpotUnavailable, *API_ERRORS) as error:
                status, message, _ = (
                    error_text(error) if isinstance(error, API_ERRORS) else (0, str(error), {})
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


def _named(error: dict[str, Any], pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs one error of a multi-status answer refuses: those its `context` names (by id, not
    by key: HubSpot doesn't document the keys), both ids if it names both, else either."""
    context = error.get("context") or {}
    ids = {str(i) for values in context.values() if isinstance(values, list) for i in values}
    both = [(contact, to) for contact, to in pairs if contact in ids and to in ids]
    return both or [(contact, to) for contact, to in pairs if contact in ids or to in ids]


def _refused(to_type: str, pairs: list[tuple[str, str]], answered: str, message: str) -> None:
    """The log line for contacts pushed without a record HubSpot refused to put them on."""
    if not pairs:  # an error naming no pair we sent: still said, never silent
        log.warning(
            "A contact pushed without its %s: HubSpot answered %s: %s", _singular(to_type), answered, message
        )
    for contact, to in pairs:
        log.warning(
            "Contact %s pushed without its %s %s: HubSpot answered %s: %s",
            contact,
            _singular(to_type),
            to,
            answered,
            message,
        )


def _singular(object_type: str) -> str:
    return "company" if object_type == "companies" else object_type.removesuffix("s")


def _marked_deals(deals: list[DealOut]) -> list[_Marked]:
    return [_Marked(deal.push_id, str(deal.lead_id), {"properties": deal.properties}) for deal in deals]
