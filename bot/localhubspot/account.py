"""The stand-in's HubSpot account: records, owners, pipelines, properties and associations, in memory.

Tests seed it with `add_*` (no limits, no faults), read it back with `objects()`, and change it as a
person in HubSpot would with `update()` / `archive()`. The HTTP side (`server.py`) calls the same
methods, so a write through the API and a write in a test follow one set of rules: unknown or
read-only properties, unknown owners and stages are refused the way HubSpot refuses them.
"""

import bisect
import functools
import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from bot.localhubspot import search
from bot.localhubspot.errors import ApiError, invalid_property, not_found, validation
from bot.localhubspot.limits import Faults, RateLimits
from bot.localhubspot.model import Owner, Pipeline, Property, Record, Stage, built_in, iso
from bot.localhubspot.schema import (
    ALL_SCOPES,
    ASSOCIATION_TYPES,
    BUILT_IN_PROPERTIES,
    DATE_PROPERTIES,
    DEFAULT_STAGES,
    ENGAGEMENTS,
    OPTIONS,
    READ_ONLY,
    REQUIRED_ON_CREATE,
    REVERSE,
    UNLABELLED_OF_PRIMARY,
    created,
    last_modified,
)
from bot.localhubspot.schema import object_type as type_named


class HubSpot:
    """One HubSpot account, thread-safe. Times for limits, faults and search lag come from `clock`;
    record timestamps (`createdAt`, `hs_lastmodifieddate`) from `now_ms` (epoch milliseconds)."""

    def __init__(
        self,
        *,
        burst_limit: int = 190,
        burst_window_s: float = 10.0,
        search_per_s: float = 5.0,
        search_lag_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        daily_limit: int = 650_000,
        now_ms: Callable[[], int] | None = None,
        token: str = "pat-local-test",
        multi_status: bool = False,
    ) -> None:
        self.token = token
        # How an association batch with a bad pair (an archived or unknown id) is answered: HubSpot
        # does both. False: a 400 for the whole batch, nothing made. True: 207, the good pairs made
        # and `errors` naming the bad ones.
        self.multi_status = multi_status
        self.scopes: set[str] = set(ALL_SCOPES)
        self.search_lag_s = search_lag_s
        self.clock = clock
        self.limits = RateLimits(
            burst_limit=burst_limit,
            burst_window_s=burst_window_s,
            search_per_s=search_per_s,
            daily_limit=daily_limit,
            clock=clock,
        )
        self._faults = Faults(clock, self.limits)
        self._now_ms = now_ms or (lambda: int(time.time() * 1000))
        self._last_ms = 0
        self.lock = threading.RLock()
        self._ids = itertools.count(10_001)
        self._user_ids = itertools.count(7_000_001)
        self._records: dict[str, dict[str, Record]] = {t: {} for t in BUILT_IN_PROPERTIES}
        self._order: dict[str, list[int]] = {t: [] for t in BUILT_IN_PROPERTIES}  # ids ascending
        self.owners: dict[str, Owner] = {}
        self.properties: dict[str, dict[str, Property]] = {
            kind: {name: built_in(name) for name in names} for kind, names in BUILT_IN_PROPERTIES.items()
        }
        self._unique: dict[tuple[str, str], dict[str, str]] = {("contacts", "email"): {}}
        # (from type, from id) -> to type -> to id -> association type ids
        self._links: dict[tuple[str, str], dict[str, dict[str, set[int]]]] = {}
        stages = [
            Stage(sid, label, p, sid in ("closedwon", "closedlost"), n)
            for n, (sid, label, p) in enumerate(DEFAULT_STAGES)
        ]
        self.pipelines: dict[str, Pipeline] = {"default": Pipeline("default", "Sales Pipeline", stages)}
        self.requests = 0  # requests that reached the account (after auth, limits and faults)

    # ---- what tests call --------------------------------------------------------------------------
    def faults(self) -> Faults:
        return self._faults

    def add_owner(self, email: str, first: str = "", last: str = "") -> str:
        with self.lock:
            owner_id = str(next(self._ids))
            self.owners[owner_id] = Owner(owner_id, email, first, last, next(self._user_ids), self._stamp())
            return owner_id

    def add_pipeline(
        self, pipeline_id: str, label: str, stages: Sequence[tuple[str, str, float, bool]]
    ) -> None:
        """A pipeline of the account's own: stages as (id, label, probability, is_closed)."""
        with self.lock:
            self.pipelines[pipeline_id] = Pipeline(
                pipeline_id,
                label,
                [Stage(sid, lab, str(p), closed, n) for n, (sid, lab, p, closed) in enumerate(stages)],
                display_order=len(self.pipelines),
            )

    def add_company(self, name: str, **props: str) -> str:
        return self.create("companies", {"name": name, **props}).id

    def add_contact(
        self, first: str, last: str, email: str = "", *, company: str | None = None, **props: str
    ) -> str:
        values = {"firstname": first, "lastname": last, **props}
        if email:
            values["email"] = email
        links = [("companies", company, 1)] if company else []
        return self.create("contacts", values, links).id

    def add_deal(
        self,
        name: str,
        *,
        stage: str,
        owner: str | None = None,
        company: str | None = None,
        contacts: Sequence[str] = (),
        pipeline: str = "default",
        **props: str,
    ) -> str:
        values = {"dealname": name, "dealstage": stage, "pipeline": pipeline, **props}
        if owner:
            values["hubspot_owner_id"] = owner
        links = [("contacts", c, 3) for c in contacts]
        if company:
            links.append(("companies", company, 5))
        return self.create("deals", values, links).id

    def add_engagement(
        self,
        kind: str,
        *,
        timestamp_ms: int,
        owner: str | None = None,
        deal: str | None = None,
        contact: str | None = None,
        company: str | None = None,
        **props: str,
    ) -> str:
        if kind not in ENGAGEMENTS:
            raise ValueError(f"kind must be one of {ENGAGEMENTS}, not {kind!r}")
        values = {"hs_timestamp": str(timestamp_ms), **props}
        if owner:
            values["hubspot_owner_id"] = owner
        links = []
        for target, target_id in (("deals", deal), ("contacts", contact), ("companies", company)):
            if target_id:
                links.append((target, target_id, next(iter(ASSOCIATION_TYPES[(kind, target)]))))
        return self.create(kind, values, links).id

    def update(self, object_type: str, object_id: str, **props: str) -> None:
        """Change a record as someone in HubSpot would; moves its last-modified date."""
        self.write(object_type, object_id, props)

    def archive(self, object_type: str, object_id: str) -> None:
        with self.lock:
            record = self._records[object_type].get(object_id)
            if record is None or record.archived:
                raise not_found(object_type, object_id)
            record.archived = True
            record.archived_ms = self._stamp()
            for (prop_type, prop), index in self._unique.items():
                key = _key(prop, record.properties.get(prop, ""))
                if prop_type == object_type and index.get(key) == object_id:
                    del index[key]
            self._remember(record)

    def objects(self, object_type: str) -> list[dict[str, Any]]:
        """Every record of a type, archived too, for assertions: id, properties, archived, associations."""
        with self.lock:
            return [
                {
                    "id": r.id,
                    "properties": dict(r.properties),
                    "archived": r.archived,
                    "associations": {
                        to: sorted(ids, key=int)
                        for to, ids in self._links.get((object_type, r.id), {}).items()
                        if ids
                    },
                }
                for r in self._records[object_type].values()
            ]

    # ---- records ---------------------------------------------------------------------------------
    def _stamp(self) -> int:
        self._last_ms = max(self._last_ms, self._now_ms())
        return self._last_ms

    def _remember(self, record: Record) -> None:
        """Keep the version search will see once the lag has passed (and forget ones it never will)."""
        if self.search_lag_s <= 0:
            return
        now = self.clock()
        record.versions.append((now, None if record.archived else dict(record.properties)))
        seen = [i for i, (at, _) in enumerate(record.versions) if at <= now - self.search_lag_s]
        if seen:
            del record.versions[: seen[-1]]

    def get(self, object_type: str, object_id: str, id_property: str | None = None) -> Record | None:
        with self.lock:
            if id_property and id_property != "hs_object_id":
                object_id = self._unique.get((object_type, id_property), {}).get(
                    _key(id_property, object_id), ""
                )
            record = self._records[object_type].get(object_id)
            return None if record is None or record.archived else record

    def check_values(self, object_type: str, values: dict[str, Any], record: Record | None) -> dict[str, str]:
        """HubSpot's property validation: every property must exist and be writable, owners and
        stages must be the account's. Returns the values as HubSpot stores them (strings)."""
        known = self.properties[object_type]
        problems = []
        clean: dict[str, str] = {}
        for name, raw in values.items():
            value = "" if raw is None else str(raw)
            if name not in known:
                problems.append(
                    invalid_property(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                )
            elif name in READ_ONLY:
                problems.append(
                    invalid_property(
                        name, "READ_ONLY_VALUE", f"{name} is a read only property; its value cannot be set."
                    )
                )
            elif name in OPTIONS and value and value not in OPTIONS[name]:
                allowed = ", ".join(sorted(OPTIONS[name]))
                problems.append(
                    invalid_property(
                        name, "INVALID_OPTION", f"{value} was not one of the allowed options: [{allowed}]"
                    )
                )
            elif name == "hubspot_owner_id" and value and value not in self.owners:
                problems.append(
                    invalid_property(name, "INVALID_OWNER_ID", f"{value} is not a valid owner id")
                )
            elif name in DATE_PROPERTIES and value:
                ms = search.to_ms(value)
                if ms is None:
                    problems.append(invalid_property(name, "INVALID_DATE", f"{value} is not a valid date"))
                else:
                    clean[name] = iso(ms)
                continue
            else:
                clean[name] = value
        if object_type == "deals" and ("dealstage" in clean or "pipeline" in clean):
            before = record.properties if record else {}
            pipeline_id = clean.get("pipeline") or before.get("pipeline") or "default"
            stage = clean.get("dealstage") or before.get("dealstage") or ""
            pipeline = self.pipelines.get(pipeline_id)
            if pipeline is None:
                problems.append(
                    invalid_property("pipeline", "INVALID_OPTION", f"{pipeline_id} is not a pipeline")
                )
            elif stage not in {s.id for s in pipeline.stages}:
                allowed = ", ".join(s.id for s in pipeline.stages)
                problems.append(
                    invalid_property(
                        "dealstage",
                        "INVALID_OPTION",
                        f"{stage} was not one of the allowed options: [{allowed}]",
                    )
                )
        if problems:
            details = ", ".join(p["message"] for p in problems)
            raise validation(f"Property values were not valid: {details}", problems)
        for (prop_type, prop), index in self._unique.items():
            unique_value = clean.get(prop)
            if prop_type == object_type and unique_value:
                holder = index.get(_key(prop, unique_value))
                if holder is not None and (record is None or holder != record.id):
                    noun = object_type.removesuffix("s").capitalize()
                    raise ApiError(
                        409,
                        "CONFLICT",
                        f"{noun} already exists. Existing ID: {holder}",
                        extra={"existingId": holder},
                    )
        return clean

    def check_create(
        self, object_type: str, values: dict[str, Any], links: Sequence[tuple[str, str, int]] = ()
    ) -> dict[str, Any]:
        """Refuse a create HubSpot would refuse; the values to create with (a deal gets a stage)."""
        with self.lock:
            missing = [p for p in REQUIRED_ON_CREATE.get(object_type, ()) if not values.get(p)]
            if missing:
                raise validation(
                    f"Property values were not valid: {missing[0]} is required",
                    [invalid_property(m, "REQUIRED", f"{m} is required") for m in missing],
                )
            if object_type == "deals" and not values.get("dealstage"):
                values = {**values, "dealstage": self.pipelines["default"].stages[0].id}
            self.check_values(object_type, values, None)
            for to_type, to_id, type_id in links:
                self._check_link(object_type, to_type, to_id, type_id)
            return values

    def create(
        self,
        object_type: str,
        values: dict[str, Any],
        links: Sequence[tuple[str, str, int]] = (),
    ) -> Record:
        """Create a record with its associations (to type, to id, type id), all or nothing."""
        with self.lock:
            values = self.check_create(object_type, values, links)
            clean = self.check_values(object_type, values, None)
            record_id = str(next(self._ids))
            stamp = self._stamp()
            if object_type == "deals":
                clean.setdefault("pipeline", "default")
            record = Record(record_id, object_type, {}, stamp, stamp)
            self._records[object_type][record_id] = record
            self._order[object_type].append(int(record_id))
            self._apply(record, clean, stamp)
            for to_type, to_id, type_id in links:
                self._link(object_type, record_id, to_type, to_id, {type_id})
            return record

    def write(
        self, object_type: str, object_id: str, values: dict[str, Any], id_property: str | None = None
    ) -> Record:
        with self.lock:
            record = self.get(object_type, object_id, id_property)
            if record is None:
                raise not_found(object_type, object_id)
            clean = self.check_values(object_type, values, record)
            self._apply(record, clean, self._stamp())
            return record

    def _apply(self, record: Record, clean: dict[str, str], stamp: int) -> None:
        kind = record.object_type
        for (prop_type, prop), index in self._unique.items():
            if prop_type == kind and prop in clean:
                old = _key(prop, record.properties.get(prop, ""))
                if old and index.get(old) == record.id:
                    del index[old]
                if clean[prop]:
                    index[_key(prop, clean[prop])] = record.id
        record.properties.update(clean)
        record.updated_ms = stamp
        record.properties["hs_object_id"] = record.id
        record.properties[created(kind)] = iso(record.created_ms)
        record.properties[last_modified(kind)] = iso(stamp)
        if kind == "deals":
            stage = self._stage(
                record.properties.get("pipeline", "default"), record.properties.get("dealstage", "")
            )
            closed = stage is not None and stage.is_closed
            record.properties["hs_is_closed"] = "true" if closed else "false"
            won = closed and stage is not None and float(stage.probability) >= 1.0
            record.properties["hs_is_closed_won"] = "true" if won else "false"
        owner = record.properties.get("hubspot_owner_id")
        if owner is not None:
            record.properties["hs_all_owner_ids"] = owner
        self._remember(record)

    def _stage(self, pipeline_id: str, stage_id: str) -> Stage | None:
        pipeline = self.pipelines.get(pipeline_id)
        return next((s for s in pipeline.stages if s.id == stage_id), None) if pipeline else None

    def page(
        self, object_type: str, after: str | None, limit: int, archived: bool
    ) -> tuple[list[Record], str | None]:
        """The list endpoint: records in id order from `after` on, and the next `after` if more remain."""
        with self.lock:
            order = self._order[object_type]
            start = bisect.bisect_left(order, int(after)) if after and after.isdigit() else 0
            found: list[Record] = []
            records = self._records[object_type]
            for position in range(start, len(order)):
                record = records[str(order[position])]
                if record.archived != archived:
                    continue
                if len(found) == limit:
                    return found, record.id
                found.append(record)
            return found, None

    def search_view(self, record: Record) -> dict[str, str] | None:
        """The record as search sees it now: None while a change hasn't reached the index (or archived)."""
        if self.search_lag_s <= 0:
            return None if record.archived else record.properties
        horizon = self.clock() - self.search_lag_s
        seen = [props for at, props in record.versions if at <= horizon]
        return seen[-1] if seen else None

    def search(self, object_type: str, body: dict[str, Any]) -> tuple[int, list[Record], int | None]:
        """Matching records for one page of a search: (total, page, next offset)."""
        search.check(body)
        after = int(body.get("after") or 0)
        limit = int(body.get("limit") or 10)
        if after >= search.MAX_RESULTS:
            raise validation(
                f"Search can page through at most {search.MAX_RESULTS} results for a query; narrow the filters "
                f"(for example by hs_object_id or the last-modified date) instead of paging past them."
            )
        with self.lock:
            hits: list[tuple[Record, dict[str, str]]] = []
            test = search.compile_filters(body)
            for record in self._records[object_type].values():
                view = self.search_view(record)
                if view is None:
                    continue
                if test(view, functools.partial(self._linked, record)):
                    hits.append((record, view))
            for name, descending in reversed(search.sorts(body) or [("hs_object_id", False)]):
                hits.sort(key=functools.partial(_hit_key, name), reverse=descending)
            end = min(after + limit, search.MAX_RESULTS)
            page = [record for record, _ in hits[after:end]]
            more = end < len(hits)
            return len(hits), page, end if more else None

    # ---- associations ----------------------------------------------------------------------------
    def _check_link(self, from_type: str, to_type: str, to_id: str, type_id: int) -> None:
        allowed = ASSOCIATION_TYPES.get((from_type, to_type), {})
        if type_id not in allowed:
            raise validation(
                f"{type_id} is not a valid association type between {from_type} and {to_type}; "
                f"HubSpot-defined ids for this pair: {sorted(allowed)}"
            )
        if self.get(to_type, to_id) is None:
            raise validation(f"One or more associations are invalid: {to_type} {to_id} does not exist")

    def target_of(self, from_type: str, type_id: int) -> str | None:
        """Which object type a HubSpot-defined association type id points at from `from_type`."""
        return next(
            (to for (f, to), ids in ASSOCIATION_TYPES.items() if f == from_type and type_id in ids), None
        )

    def _link(self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: set[int]) -> None:
        type_ids = type_ids | {UNLABELLED_OF_PRIMARY[t] for t in type_ids if t in UNLABELLED_OF_PRIMARY}
        forward = self._links.setdefault((from_type, from_id), {}).setdefault(to_type, {})
        forward.setdefault(to_id, set()).update(type_ids)
        backward = self._links.setdefault((to_type, to_id), {}).setdefault(from_type, {})
        backward.setdefault(from_id, set()).update(REVERSE[t] for t in type_ids)

    def check_association(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: set[int]
    ) -> None:
        """Refuse, as HubSpot does, an association from or to a record that doesn't exist (or is
        archived), or of a type the pair doesn't have."""
        with self.lock:
            if self.get(from_type, from_id) is None:
                raise not_found(from_type, from_id)
            for type_id in type_ids:
                self._check_link(from_type, to_type, to_id, type_id)

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: set[int]) -> None:
        with self.lock:
            self.check_association(from_type, from_id, to_type, to_id, type_ids)
            self._link(from_type, from_id, to_type, to_id, type_ids)

    def unassociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        with self.lock:
            self._links.get((from_type, from_id), {}).get(to_type, {}).pop(to_id, None)
            self._links.get((to_type, to_id), {}).get(from_type, {}).pop(from_id, None)

    def associations(self, from_type: str, from_id: str, to_type: str) -> dict[str, set[int]]:
        """Live (not archived) records of `to_type` associated with one record, with the type ids."""
        with self.lock:
            linked = self._links.get((from_type, from_id), {}).get(to_type, {})
            return {to_id: set(ids) for to_id, ids in linked.items() if ids and self.get(to_type, to_id)}

    def _linked(self, record: Record, to_type: str, to_id: str) -> bool:
        plural = type_named(to_type) or to_type
        return bool(self._links.get((record.object_type, record.id), {}).get(plural, {}).get(to_id))

    # ---- properties --------------------------------------------------------------------------------
    def add_property(self, object_type: str, definition: dict[str, Any]) -> Property:
        with self.lock:
            name = str(definition.get("name") or "")
            if not name or not name.replace("_", "").isalnum() or name != name.lower():
                raise validation(f"{name!r} is not a valid property name (lower case letters, digits, _).")
            if name in self.properties[object_type]:
                raise ApiError(409, "OBJECT_ALREADY_EXISTS", f"A property named '{name}' already exists.")
            for required in ("label", "type", "fieldType", "groupName"):
                if not definition.get(required):
                    raise validation(f"{required} is required to create a property.")
            unique = bool(definition.get("hasUniqueValue"))
            if unique and sum(p.has_unique_value for p in self.properties[object_type].values()) >= 10:
                raise validation("An object can have at most 10 properties with unique values.")
            prop = Property(
                name,
                str(definition["label"]),
                str(definition["type"]),
                str(definition["fieldType"]),
                str(definition["groupName"]),
                has_unique_value=unique,
                hubspot_defined=False,
                description=str(definition.get("description") or ""),
            )
            self.properties[object_type][name] = prop
            if unique:
                self._unique[(object_type, name)] = {}
            return prop


def _key(prop: str, value: str) -> str:
    """Unique values compare as HubSpot compares them: e-mail addresses without regard to case."""
    return value.lower() if prop == "email" else value


def _hit_key(name: str, hit: tuple[Record, dict[str, str]]) -> tuple[int, Any]:
    return search.sort_key(name, hit[1].get(name))
