"""HubSpot's error answers: `{status, message, correlationId, category, errors, context}`."""

import uuid
from typing import Any


class ApiError(Exception):
    """An answer HubSpot gives instead of a result; the server turns it into HubSpot's error body."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, list[str]] | None = None,
        sub_category: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.sub_category = sub_category
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        if self.context:
            body["context"] = self.context
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body

    def item(self) -> dict[str, Any]:
        """This error as one entry of a 207 batch answer's `errors` (every field the client requires)."""
        entry = {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": self.context or {},
            "links": {},
            "errors": self.errors or [],
        }
        if self.sub_category:
            entry["subCategory"] = self.sub_category
        return entry


def invalid_property(name: str, error: str, message: str) -> dict[str, Any]:
    """One entry of a VALIDATION_ERROR about a property value, as HubSpot words them."""
    return {"isValid": False, "message": message, "error": error, "name": name}


def validation(message: str, errors: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message, errors=errors)


def not_found(object_type: str, object_id: str) -> ApiError:
    return ApiError(
        404,
        "OBJECT_NOT_FOUND",
        "Object not found.  objectId are usually numeric.",
        context={"id": [object_id]},
        extra={"objectType": object_type},
    )
