"""The OpenAPI document tells every answer an operation can give: ninja writes the success responses, this
adds the RFC 9457 problem responses (one shared schema) each kind of operation can return."""

from __future__ import annotations

from typing import Any

from tessera.api.problems import CONTENT_TYPE, TITLES

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:tessera:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {
                        "type": ["string", "null"],
                        "description": "The field, dotted; null: the request.",
                    },
                    "message": {"type": "string"},
                },
            },
        },
        "request_id": {"type": "string", "description": "Quote it when reporting a server error."},
    },
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
_WHY = {
    400: "The body is not valid JSON or a malformed multipart form.",
    401: "No valid API token.",
    403: "Your role may not do this.",
    404: "No such object, or not one you may see.",
    409: "Changed since you read it (version), or not allowed in its current state.",
    413: "The request body or an upload is too large.",
    415: "The body is not in a media type this operation accepts.",
    422: "A parameter or field is invalid; `errors` names each.",
    429: "Too many requests: wait for Retry-After seconds.",
    503: "The database is unavailable: retry after Retry-After seconds.",
}


def error_statuses(method: str, operation: dict[str, Any]) -> list[int]:
    statuses = {503}
    if operation.get("parameters") or "requestBody" in operation:
        statuses |= {404, 422}
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if operation.get("security"):
        statuses |= {401, 403, 429}
    if method != "get":
        statuses |= {409}
    return sorted(statuses)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            _files_are_not_empty(operation)
            responses = operation.setdefault("responses", {})
            for status in error_statuses(method, operation):
                answer: dict[str, Any] = {
                    "description": f"{TITLES[status]}: {_WHY[status]}",
                    "content": {CONTENT_TYPE: {"schema": reference}},
                }
                if status in (429, 503):
                    answer["headers"] = _RETRY_AFTER
                responses.setdefault(str(status), answer)
    return schema


def _files_are_not_empty(operation: dict[str, Any]) -> None:
    """An uploaded file has at least one byte: Django's multipart parser drops an empty file part (and the
    attachment check refuses an empty file), so the document says so for every file it accepts."""
    form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data", {})
    for field in form.get("schema", {}).get("properties", {}).values():
        for item in (field, field.get("items", {})):
            if item.get("format") == "binary":
                item["minLength"] = 1
