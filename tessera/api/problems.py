"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from tessera.core.errors import DomainError

logger = logging.getLogger("tessera.api")
API_PREFIX = "/api/"
REQUEST_ID_HEADER = "X-Request-ID"
RETRY_AFTER_SECONDS = 5

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
    503: "Service unavailable",
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


class UnsupportedMediaType(Exception):
    pass


class JsonParser(Parser):
    """JSON bodies as the document declares them: another media type is a 415, not a guess."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        media_type = request.content_type or ""
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(media_type)
        return super().parse_body(request)


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
        # `invalid_request`: the request breaks the OpenAPI document; `validation_failed` (DomainError) is
        # a rule the document cannot state (an unknown priority slug, a department you may not use).
        return problem(request, status=422, code="invalid_request", detail=detail, errors=errors)

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
        if isinstance(exc.__cause__, UnsupportedMediaType):  # ninja wraps any parser error in a 400
            detail = _("Send the body as application/json.")
            return problem(request, status=415, code="unsupported_media_type", detail=detail)
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

    @api.exception_handler(MultiPartParserError)
    def bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return problem(
            request, status=400, code="bad_multipart", detail=_("The multipart body is malformed.")
        )

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # Too many fields or files, a malformed upload: Django answers these 400 outside the API too.
        return problem(request, status=400, code="bad_request", detail=_("The request is malformed."))

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        return server_error(request, exc)


def server_error(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """Any other failure: logged with a request id the client also gets, never a traceback in the answer
    (whatever DEBUG says). A database that cannot be reached is a 503 the client may retry."""
    given = request.headers.get(REQUEST_ID_HEADER, "")  # a proxy's id, when it sends a plain one
    request_id = given if _PLAIN_ID.fullmatch(given) else uuid.uuid4().hex
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("API request %s: database unavailable: %s", request_id, exc)
        response = problem(
            request,
            status=503,
            code="unavailable",
            detail=_("The service is temporarily unavailable. Try again shortly."),
            request_id=request_id,
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    else:
        logger.error("API request %s: %s %s failed", request_id, request.method, request.path, exc_info=exc)
        response = problem(
            request,
            status=500,
            code="server_error",
            detail=_("The server failed to answer this request. Quote the request id when reporting it."),
            request_id=request_id,
        )
    response[REQUEST_ID_HEADER] = request_id
    return response


class ProblemMiddleware:
    """Under /api/, the answers Django gives outside the API's views are problem documents too: an unknown
    path (404), a method the path does not have (405), an exception no view handled."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.get("Content-Type", "").endswith("json"):
            return response
        if response.status_code == 404:
            return problem(request, status=404, code="not_found", detail=_("Not found."))
        if response.status_code == 405:
            answer = problem(
                request,
                status=405,
                code="method_not_allowed",
                detail=_("This path does not accept the %(method)s method.") % {"method": request.method},
            )
            answer["Allow"] = response.get("Allow", "")
            return answer
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        return server_error(request, exc) if request.path.startswith(API_PREFIX) else None


_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_BRANCH = re.compile(r"[-\[]")
_TYPE_NAMES = {"str", "int", "float", "bool", "none", "list", "dict", "tuple", "datetime"}


def _pydantic_error(error: dict[str, Any]) -> dict[str, Any]:
    # pydantic names the union branch it tried ("constrained-int", "str"): not part of the field's path.
    location = [
        str(part)
        for part in error.get("loc", ())
        if isinstance(part, int) or not (_BRANCH.search(part) or part in _TYPE_NAMES)
    ]
    # ninja prefixes the location with where the value came from ("body", "payload", "query").
    while location and location[0] in {"body", "query", "path", "form", "payload", "data", "file"}:
        location = location[1:]
    message = error.get("msg", "Invalid value")
    if error.get("type") == "extra_forbidden":
        message = "Unknown field."
    return {"field": ".".join(location) or None, "message": message}
