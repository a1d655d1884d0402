"""Associations v4: read one record's, batch read, create (labelled or default), archive."""

from typing import Any

from bot.localhubspot.account import HubSpot
from bot.localhubspot.errors import ApiError, not_found, validation
from bot.localhubspot.routes import (
    LIST_LIMIT,
    V4_BATCH_LIMIT,
    Request,
    _batch,
    _inputs,
    _pair,
    route,
)
from bot.localhubspot.schema import ASSOCIATION_TYPES, DEFAULT_TYPE, OBJECT_TYPE_IDS


def _types(from_type: str, to_type: str, type_ids: set[int]) -> list[dict[str, Any]]:
    labels = ASSOCIATION_TYPES.get((from_type, to_type), {})
    return [
        {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": labels.get(type_id)}
        for type_id in sorted(type_ids)
    ]


def _to(from_type: str, to_type: str, found: dict[str, set[int]]) -> list[dict[str, Any]]:
    # HubSpot sends toObjectId as a number here; the client's model reads it as a string.
    return [
        {"toObjectId": int(to_id), "associationTypes": _types(from_type, to_type, ids)}
        for to_id, ids in sorted(found.items(), key=lambda item: int(item[0]))
    ]


@route("GET", "/crm/v4/objects/{from}/{id}/associations/{to}", scopes=_pair(False))
def read(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    from_type, to_type = request.kind("from"), request.kind("to")
    if hubspot.get(from_type, request.params["id"]) is None:
        raise not_found(from_type, request.params["id"])
    limit = min(int(request.arg("limit") or 500), 500)
    after = int(request.arg("after") or 0)
    entries = _to(from_type, to_type, hubspot.associations(from_type, request.params["id"], to_type))
    page = entries[after : after + limit]
    body: dict[str, Any] = {"results": page}
    if after + limit < len(entries):
        body["paging"] = {"next": {"after": str(after + limit)}}
    return 200, body


@route("POST", "/crm/v4/associations/{from}/{to}/batch/read", scopes=_pair(False))
def batch_read(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    """Each input's associations; 207 with an error for each id that has none (or doesn't exist)."""
    from_type, to_type = request.kind("from"), request.kind("to")
    results, errors = [], []
    for item in _inputs(request.body, V4_BATCH_LIMIT):
        from_id = str(item.get("id", ""))
        found = hubspot.associations(from_type, from_id, to_type) if hubspot.get(from_type, from_id) else {}
        if found:
            results.append({"from": {"id": from_id}, "to": _to(from_type, to_type, found)})
        else:
            errors.append(
                ApiError(
                    404,
                    "OBJECT_NOT_FOUND",
                    f"No {to_type.removesuffix('s')} is associated with {from_type.removesuffix('s')} {from_id}.",
                    sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                    context={"fromObjectId": [from_id]},
                ).item()
            )
    return _batch(results, errors)


def _labels_between(
    from_type: str, from_id: str, to_type: str, to_id: str, labels: list[str]
) -> dict[str, Any]:
    return {
        "fromObjectTypeId": OBJECT_TYPE_IDS[from_type],
        "fromObjectId": int(from_id),
        "toObjectTypeId": OBJECT_TYPE_IDS[to_type],
        "toObjectId": int(to_id),
        "labels": labels,
    }


def _specs(body: Any) -> set[int]:
    if not isinstance(body, list) or not body:
        raise validation("Send a list of association types: [{associationCategory, associationTypeId}].")
    return {int(spec.get("associationTypeId", 0)) for spec in body}


@route("PUT", "/crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}", scopes=_pair(True), write=True)
def create_default(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    from_type, to_type = request.kind("from"), request.kind("to")
    from_id, to_id = request.params["id"], request.params["toId"]
    type_id = DEFAULT_TYPE.get((from_type, to_type))
    if type_id is None:
        raise validation(f"{from_type} and {to_type} can't be associated.")
    hubspot.associate(from_type, from_id, to_type, to_id, {type_id})
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    return _batch([{"from": {"id": from_id}, "to": {"id": to_id}, "associationSpec": spec}], [])


@route("PUT", "/crm/v4/objects/{from}/{id}/associations/{to}/{toId}", scopes=_pair(True), write=True)
def create(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    from_type, to_type = request.kind("from"), request.kind("to")
    from_id, to_id = request.params["id"], request.params["toId"]
    type_ids = _specs(request.body)
    hubspot.associate(from_type, from_id, to_type, to_id, type_ids)
    labels = [label for t in sorted(type_ids) if (label := ASSOCIATION_TYPES[(from_type, to_type)].get(t))]
    return 201, _labels_between(from_type, from_id, to_type, to_id, labels)


@route("DELETE", "/crm/v4/objects/{from}/{id}/associations/{to}/{toId}", scopes=_pair(True), write=True)
def archive(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    hubspot.unassociate(
        request.kind("from"), request.params["id"], request.kind("to"), request.params["toId"]
    )
    return 204, None


@route("POST", "/crm/v4/associations/{from}/{to}/batch/create", scopes=_pair(True), write=True)
def batch_create(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    from_type, to_type = request.kind("from"), request.kind("to")
    inputs = _inputs(request.body, LIST_LIMIT)
    results = []
    with hubspot.lock:
        planned = [(*_ids(item), _specs(item.get("types"))) for item in inputs]
        planned, errors = _checked(hubspot, from_type, to_type, planned)  # all before any is made
        for from_id, to_id, type_ids in planned:
            hubspot.associate(from_type, from_id, to_type, to_id, type_ids)
            labels = [
                label for t in sorted(type_ids) if (label := ASSOCIATION_TYPES[(from_type, to_type)].get(t))
            ]
            results.append(_labels_between(from_type, from_id, to_type, to_id, labels))
    return _batch(results, errors, ok=201)


@route("POST", "/crm/v4/associations/{from}/{to}/batch/associate/default", scopes=_pair(True), write=True)
def batch_default(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    from_type, to_type = request.kind("from"), request.kind("to")
    type_id = DEFAULT_TYPE.get((from_type, to_type))
    if type_id is None:
        raise validation(f"{from_type} and {to_type} can't be associated.")
    pairs = [(*_ids(item), {type_id}) for item in _inputs(request.body, LIST_LIMIT)]
    with hubspot.lock:
        # Every pair is checked before any is made: a refused batch (an id that names no record)
        # leaves nothing half-associated, and sending the same batch again changes nothing more.
        pairs, errors = _checked(hubspot, from_type, to_type, pairs)
        for from_id, to_id, type_ids in pairs:
            hubspot.associate(from_type, from_id, to_type, to_id, type_ids)
    spec = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}
    made = [{"from": {"id": f}, "to": {"id": t}, "associationSpec": spec} for f, t, _ in pairs]
    return _batch(made, errors)


def _checked(
    hubspot: HubSpot, from_type: str, to_type: str, planned: list[tuple[str, str, set[int]]]
) -> tuple[list[tuple[str, str, set[int]]], list[dict[str, Any]]]:
    """The pairs of an association batch that can be made, and the errors of those that can't.
    HubSpot answers a bad pair either way: the whole batch refused (the first bad pair's 400 or
    404), or, with `multi_status`, a 207 that makes the good pairs and names each bad one."""
    good, errors = [], []
    for from_id, to_id, type_ids in planned:
        try:
            hubspot.check_association(from_type, from_id, to_type, to_id, type_ids)
        except ApiError as error:
            if not hubspot.multi_status:
                raise
            error.context = {"fromObjectId": [from_id], "toObjectId": [to_id]}
            errors.append(error.item())
            continue
        good.append((from_id, to_id, type_ids))
    return good, errors


def _ids(item: Any) -> tuple[str, str]:
    try:
        return str(item["from"]["id"]), str(item["to"]["id"])
    except (KeyError, TypeError):
        raise validation("Each input needs from.id and to.id.") from None


@route("POST", "/crm/v4/associations/{from}/{to}/batch/archive", scopes=_pair(True), write=True)
def batch_archive(hubspot: HubSpot, request: Request) -> tuple[int, Any]:
    from_type, to_type = request.kind("from"), request.kind("to")
    for item in _inputs(request.body, V4_BATCH_LIMIT):
        for target in item.get("to") or []:
            hubspot.unassociate(from_type, str(item["from"]["id"]), to_type, str(target["id"]))
    return 204, None
