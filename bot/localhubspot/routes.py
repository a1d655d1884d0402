"""HubSpot's CRM endpoints, one function each, answering with HubSpot's JSON shapes.

Owners, pipelines and properties (v3); objects: list, read, create, update, archive, batch
read/create/update/upsert/archive, search (v3); associations (v4). Shapes follow HubSpot's
reference and are checked against the official `hubspot-api-client`'s models in the tests.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from bot.localhubspot.account import HubSpot
from bot.localhubspot.errors import ApiError, not_found, validation
from bot.localhubspot.model import Record, iso
from bot.localhubspot.schema import (
    DEFAULT_PROPERTIES,
    ENGAGEMENT_DEFAULTS,
    association_name,
    created,
    last_modified,
    object_type,
    scope_for,
)

BATCH_LIMIT = 100
V4_BATCH_LIMIT = 1000
LIST_LIMIT = 100


@dataclass
class Request:
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str] | None:
        """A list parameter, sent repeated (`properties=a&properties=b`) or comma-separated."""
        values = self.query.get(name)
        if values is None:
            return None
        return [v for value in values for v in value.split(",") if v]

    def kind(self, key: str = "type") -> str:
        found = object_type(self.params[key])
        if found is None:
            raise ApiError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {self.params[key]}")
        return found


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[HubSpot, Request], tuple[int, Any]]
    scopes: Callable[[Request], set[str]]
    write: bool = False
    search: bool = False
    params: dict[str, str] = field(default_factory=dict)


_ROUTES: list[Route] = []


def route(
    method: str,
    path: str,
    *,
    scopes: Callable[[Request], set[str]],
    write: bool = False,
    search: bool = False,
) -> Callable[[Callable[[HubSpot, Request], tuple[int, Any]]], Callable[[HubSpot, Request], tuple[int, Any]]]:
    pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")

    def register(
        handler: Callable[[HubSpot, Request], tuple[int, Any]],
    ) -> Callable[[HubSpot, Request], tuple[int, Any]]:
        _ROUTES.append(Route(method, pattern, handler, scopes, write, search))
        return handler

    return register


def find(method: str, path: str) -> Route | None:
    for candidate in _ROUTES:
        if candidate.method == method and (match := candidate.pattern.match(path)):
            return Route(
                candidate.method,
                candidate.pattern,
                candidate.handler,
                candidate.scopes,
                candidate.write,
                candidate.search,
                {key: unquote(value) for key, value in match.groupdict().items()},
            )
    return None


def _read(key: str = "type") -> Callable[[Request], set[str]]:
    return lambda r: {scope_for(r.kind(key), write=False)}


def _write(key: str = "type") -> Callable[[Request], set[str]]:
    return lambda r: {scope_for(r.kind(key), write=True)}


def _pair(write: bool) -> Callable[[Request], set[str]]:
    return lambda r: {scope_for(r.kind("from"), write), scope_for(r.kind("to"), write)}


def _schema(write: bool) -> Callable[[Request], set[str]]:
    def scopes(r: Request) -> set[str]:
        kind = r.kind()
        owner = kind if kind in ("contacts", "companies", "deals") else "contacts"
        return {f"crm.schemas.{owner}.{'write' if write else 'read'}"}

    return scopes


# ---- shapes ----------------------------------------------------------------------------------------
def _now() -> str:
    from time import time

    return iso(int(time() * 1000))


def _batch(results: list[Any], errors: list[dict[str, Any]], ok: int = 200) -> tuple[int, dict[str, Any]]:
    """HubSpot's batch envelope; 207 with `numErrors`/`errors` when some inputs failed."""
    stamp = _now()
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
        return 207, body
    return ok, body


def _paging(after: str | None, link: str) -> dict[str, Any]:
    return {"paging": {"next": {"after": after, "link": f"{link}?after={after}"}}} if after else {}


def _wanted(kind: str, asked: list[str] | None) -> list[str]:
    defaults = DEFAULT_PROPERTIES.get(kind, ENGAGEMENT_DEFAULTS)
    if not asked:
        return list(defaults)
    always = ["hs_object_id", created(kind), last_modified(kind)]
    return list(dict.fromkeys([*asked, *always]))


def record_wire(
    hubspot: HubSpot,
    record: Record,
    asked: list[str] | None,
    associations: list[str] | None = None,
    view: dict[str, str] | None = None,
) -> dict[str, Any]:
    props = view if view is not None else record.properties
    body: dict[str, Any] = {
        "id": record.id,
        "properties": {name: props.get(name) for name in _wanted(record.object_type, asked)},
        "createdAt": iso(record.created_ms),
        "updatedAt": iso(record.updated_ms),
        "archived": record.archived,
    }
    if record.archived and record.archived_ms is not None:
        body["archivedAt"] = iso(record.archived_ms)
    if associations:
        linked: dict[str, Any] = {}
        for name in associations:
            to = object_type(name)
            if to is None:
                continue
            found = hubspot.associations(record.object_type, record.id, to)
            entries = [
                {"id": to_id, "type": association_name(record.object_type, to, type_id)}
                for to_id in sorted(found, key=int)
                for type_id in sorted(found[to_id])
            ]
            if entries:
                linked[to] = {"results": entries}
        body["associations"] = linked
    return body


def _links(hubspot: HubSpot, kind: str, given: Any) -> list[tuple[str, str, int]]:
    """`associations: [{to: {id}, types: [{associationCategory, associationTypeId}]}]` as links."""
    links = []
    for item in given or []:
        to_id = str((item.get("to") or {}).get("id", ""))
        for spec in item.get("types") or []:
            type_id = int(spec.get("associationTypeId", 0))
            to = hubspot.target_of(kind, type_id)
            if to is None or spec.get("associationCategory") not in ("HUBSPOT_DEFINED", None):
                raise validation(
                    f"{spec.get('associationCategory')} {type_id} is not a valid association type from {kind}."
                )
            links.append((to, to_id, type_id))
    return links


def _inputs(body: Any, limit: int = BATCH_LIMIT) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list):
        raise validation("Invalid input JSON: inputs is required.")
    if len(inputs) > limit:
        raise validation(f"Batch size must be at most {limit}; got {len(inputs)}.")
    return inputs


# ---- owners, pipelines, properties ------------------------------------------------------------------
_OWNERS = {"crm.objects.owners.read"}


@route("GET", "/crm/v3/owners", scopes=lambda r: _OWNERS)
def list_owners(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    email = (request.arg("email") or "").lower()
    archived = (request.arg("archived") or "").lower() == "true"
    limit = min(int(request.arg("limit") or 100), 500)
    after = int(request.arg("after") or 0)
    with hubspot.lock:
        owners = [
            o
            for o in hubspot.owners.values()
            if o.archived == archived and (not email or o.email.lower() == email)
        ]
    page = owners[after : after + limit]
    more = after + limit < len(owners)
    return 200, {
        "results": [_owner(o) for o in page],
        **_paging(str(after + limit) if more else None, "/crm/v3/owners/"),
    }


@route("GET", "/crm/v3/owners/{id}", scopes=lambda r: _OWNERS)
def read_owner(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    by_user = request.arg("idProperty") == "userId"
    wanted = request.params["id"]
    owner = next(
        (o for o in hubspot.owners.values() if (str(o.user_id) if by_user else o.id) == wanted), None
    )
    if owner is None:
        raise not_found("owners", wanted)
    return 200, _owner(owner)


def _owner(owner: Any) -> dict[str, Any]:
    return {
        "id": owner.id,
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first,
        "lastName": owner.last,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": iso(owner.created_ms),
        "updatedAt": iso(owner.created_ms),
        "archived": owner.archived,
        "teams": [],
    }


@route("GET", "/crm/v3/pipelines/{type}", scopes=_read())
def list_pipelines(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    if request.kind() != "deals":
        return 200, {"results": []}
    return 200, {"results": [_pipeline(p) for p in hubspot.pipelines.values()]}


@route("GET", "/crm/v3/pipelines/{type}/{pipeline}", scopes=_read())
def read_pipeline(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    pipeline = hubspot.pipelines.get(request.params["pipeline"])
    if pipeline is None or request.kind() != "deals":
        raise not_found("pipelines", request.params["pipeline"])
    return 200, _pipeline(pipeline)


@route("GET", "/crm/v3/pipelines/{type}/{pipeline}/stages", scopes=_read())
def list_stages(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    status, body = read_pipeline(hubspot, request)
    return status, {"results": body["stages"]}


def _pipeline(pipeline: Any) -> dict[str, Any]:
    stamp = iso(0)
    return {
        "id": pipeline.id,
        "label": pipeline.label,
        "displayOrder": pipeline.display_order,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": False,
        "stages": [
            {
                "id": s.id,
                "label": s.label,
                "displayOrder": s.display_order,
                "metadata": {"isClosed": "true" if s.is_closed else "false", "probability": s.probability},
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for s in pipeline.stages
        ],
    }


@route("GET", "/crm/v3/properties/{type}", scopes=_schema(False))
def list_properties(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    return 200, {"results": [_property(p) for p in hubspot.properties[request.kind()].values()]}


@route("GET", "/crm/v3/properties/{type}/{name}", scopes=_schema(False))
def read_property(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    prop = hubspot.properties[request.kind()].get(request.params["name"])
    if prop is None:
        raise ApiError(404, "OBJECT_NOT_FOUND", f"Unable to find property {request.params['name']}.")
    return 200, _property(prop)


@route("POST", "/crm/v3/properties/{type}", scopes=_schema(True), write=True)
def create_property(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    return 201, _property(hubspot.add_property(request.kind(), request.body))


def _property(prop: Any) -> dict[str, Any]:
    stamp = iso(0)
    return {
        "name": prop.name,
        "label": prop.label,
        "type": prop.type,
        "fieldType": prop.field_type,
        "groupName": prop.group_name,
        "description": prop.description,
        "options": [],
        "hasUniqueValue": prop.has_unique_value,
        "hubspotDefined": prop.hubspot_defined,
        "hidden": False,
        "formField": False,
        "calculated": False,
        "externalOptions": False,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "modificationMetadata": {
            "archivable": True,
            "readOnlyDefinition": prop.hubspot_defined,
            "readOnlyValue": False,
        },
    }
