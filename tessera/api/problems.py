"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from tessera.core.errors import DomainError

CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Server error",
}


def problem(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"urn:tessera:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        errors = [{"field": exc.field, "message": str(exc.message)}] if exc.field else None
        return problem(request, status=exc.status, code=exc.code, detail=str(exc.message), errors=errors)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [_pydantic_error(error) for error in exc.errors]
        first = errors[0] if errors else {"field": None, "message": "Invalid request."}
        detail = f"{first['field']}: {first['message']}" if first["field"] else str(first["message"])
        return problem(request, status=422, code="validation_failed", detail=detail, errors=errors)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem(
            request,
            status=401,
            code="unauthenticated",
            detail=_("Send a valid API token: Authorization: Bearer <token>."),
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        detail = str(exc)
        if exc.status_code == 400 and "parse" in detail.lower():
            detail = _("The request body is not valid JSON.")
        return problem(request, status=exc.status_code, code=f"http_{exc.status_code}", detail=detail)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(request, status=404, code="not_found", detail=_("Not found."))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem(request, status=413, code="too_large", detail=_("The request body is too large."))


def _pydantic_error(error: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in error.get("loc", ())]
    # ninja prefixes the location with where the value came from ("body", "payload", "query").
    while location and location[0] in {"body", "query", "path", "form", "payload", "data", "file"}:
        location = location[1:]
    message = error.get("msg", "Invalid value")
    if error.get("type") == "extra_forbidden":
        message = "Unknown field."
    return {"field": ".".join(location) or None, "message": message}
