"""CRM objects v3: list, read, create, update, archive, the batch endpoints and search."""

from typing import Any

from bot.localhubspot.account import HubSpot
from bot.localhubspot.errors import ApiError, not_found, validation
from bot.localhubspot.routes import (
    LIST_LIMIT,
    Request,
    _batch,
    _inputs,
    _links,
    _paging,
    _read,
    _write,
    record_wire,
    route,
)

BASE = "/crm/v3/objects/{type}"


@route("GET", BASE, scopes=_read())
def list_objects(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    limit = int(request.arg("limit") or 10)
    if limit > LIST_LIMIT:
        raise validation(f"limit must be at most {LIST_LIMIT}.")
    archived = (request.arg("archived") or "").lower() == "true"
    records, after = hubspot.page(kind, request.arg("after"), limit, archived)
    asked, linked = request.args("properties"), request.args("associations")
    with hubspot.lock:
        results = [record_wire(hubspot, r, asked, linked) for r in records]
    return 200, {"results": results, **_paging(after, f"/crm/v3/objects/{kind}")}


@route("GET", BASE + "/{id}", scopes=_read())
def read_object(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    record = hubspot.get(kind, request.params["id"], request.arg("idProperty"))
    if record is None:
        raise not_found(kind, request.params["id"])
    with hubspot.lock:
        return 200, record_wire(hubspot, record, request.args("properties"), request.args("associations"))


@route("POST", BASE, scopes=_write(), write=True)
def create_object(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    body = request.body if isinstance(request.body, dict) else {}
    record = hubspot.create(
        kind, dict(body.get("properties") or {}), _links(hubspot, kind, body.get("associations"))
    )
    return 201, record_wire(hubspot, record, list(record.properties))


@route("PATCH", BASE + "/{id}", scopes=_write(), write=True)
def update_object(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    props = dict((request.body or {}).get("properties") or {})
    record = hubspot.write(kind, request.params["id"], props, request.arg("idProperty"))
    return 200, record_wire(hubspot, record, list(record.properties))


@route("DELETE", BASE + "/{id}", scopes=_write(), write=True)
def archive_object(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    if hubspot.get(kind, request.params["id"]) is not None:
        hubspot.archive(kind, request.params["id"])
    return 204, None  # HubSpot answers 204 for an id it doesn't have, too


@route("POST", BASE + "/batch/read", scopes=_read())
def batch_read(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    inputs = _inputs(request.body)
    asked = list(request.body.get("properties") or []) or None
    id_property = request.body.get("idProperty")
    results, missing = [], []
    with hubspot.lock:
        for item in inputs:
            object_id = str(item.get("id", ""))
            record = hubspot.get(kind, object_id, id_property)
            if record is None:
                missing.append(object_id)
            else:
                results.append(record_wire(hubspot, record, asked))
    errors = []
    if missing:
        noun = kind.upper().removesuffix("S").replace("COMPANIE", "COMPANY")
        errors.append(
            ApiError(
                404,
                "OBJECT_NOT_FOUND",
                f"Could not get some {noun} objects, they may be deleted or not exist. Check that ids are valid.",
                context={"ids": missing},
            ).item()
        )
    return _batch(results, errors)


@route("POST", BASE + "/batch/create", scopes=_write(), write=True)
def batch_create(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    inputs = _inputs(request.body)
    with hubspot.lock:
        # All or nothing, as HubSpot's batch create: check every input before creating any.
        plans = [
            (dict(item.get("properties") or {}), _links(hubspot, kind, item.get("associations")))
            for item in inputs
        ]
        for values, links in plans:
            hubspot.check_create(kind, values, links)
        records = [hubspot.create(kind, values, links) for values, links in plans]
        return _batch([record_wire(hubspot, r, list(r.properties)) for r in records], [], ok=201)


@route("POST", BASE + "/batch/update", scopes=_write(), write=True)
def batch_update(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    inputs = _inputs(request.body)
    results, missing = [], []
    with hubspot.lock:
        for item in inputs:
            object_id = str(item.get("id", ""))
            record = hubspot.get(kind, object_id, item.get("idProperty"))
            if record is None:
                missing.append(object_id)
                continue
            hubspot.check_values(kind, dict(item.get("properties") or {}), record)
        for item in inputs:
            object_id = str(item.get("id", ""))
            if object_id not in missing:
                record = hubspot.write(
                    kind, object_id, dict(item.get("properties") or {}), item.get("idProperty")
                )
                results.append(record_wire(hubspot, record, list(record.properties)))
    errors = [not_found(kind, m).item() for m in missing]
    return _batch(results, errors)


@route("POST", BASE + "/batch/upsert", scopes=_write(), write=True)
def batch_upsert(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    """Create or update by a unique-value property: repeating the same input changes nothing more."""
    kind = request.kind()
    inputs = _inputs(request.body)
    results = []
    with hubspot.lock:
        for item in inputs:
            id_property = str(item.get("idProperty") or "")
            prop = hubspot.properties[kind].get(id_property)
            unique = prop is not None and (
                prop.has_unique_value or (kind, id_property) == ("contacts", "email")
            )
            if not unique:
                raise validation(f"idProperty {id_property!r} must be a property with unique values.")
            if not item.get("id"):
                raise validation("Each upsert input needs an id (the idProperty's value).")
        for item in inputs:
            id_property, value = str(item["idProperty"]), str(item["id"])
            values = dict(item.get("properties") or {})
            record = hubspot.get(kind, value, id_property)
            new = record is None
            if record is None:
                record = hubspot.create(kind, {**values, id_property: value})
            else:
                record = hubspot.write(kind, record.id, values)
            results.append({**record_wire(hubspot, record, list(record.properties)), "new": new})
    return _batch(results, [])


@route("POST", BASE + "/batch/archive", scopes=_write(), write=True)
def batch_archive(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    with hubspot.lock:
        for item in _inputs(request.body):
            object_id = str(item.get("id", ""))
            if hubspot.get(kind, object_id) is not None:
                hubspot.archive(kind, object_id)
    return 204, None


@route("POST", BASE + "/search", scopes=_read(), search=True)
def search(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    kind = request.kind()
    body = request.body if isinstance(request.body, dict) else {}
    total, page, after = hubspot.search(kind, body)
    asked = list(body.get("properties") or []) or None
    with hubspot.lock:
        results = [record_wire(hubspot, r, asked, view=hubspot.search_view(r)) for r in page]
    paging = {"paging": {"next": {"after": str(after)}}} if after is not None else {}
    return 200, {"total": total, "results": results, **paging}
