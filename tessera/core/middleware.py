from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _


class UserTimeZoneMiddleware:
    """Activate the signed-in user's time zone so templates show local times with the zone's name."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        if zone_name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone_name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class AllowedHostMiddleware:
    """First in the chain: a request whose Host is not an allowed host is refused (400, Django's
    DisallowedHost) before sessions, sign-in, token checks or rate-limit counters see it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.get_host()  # raises DisallowedHost, which Django answers with 400
        return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Switch off browser features no page uses (settings.TESSERA_PERMISSIONS_POLICY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.TESSERA_PERMISSIONS_POLICY)
        return response


class PrivateResponseMiddleware:
    """Anything answered to a signed-in person or an API token (ticket pages, attachments, API data)
    carries personal data: no shared or browser cache may keep it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        personal = "HTTP_AUTHORIZATION" in request.META or (user is not None and user.is_authenticated)
        if personal and "no-store" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "private, no-store"
        return response


class RequestSizeLimitMiddleware:
    """A request whose declared body is larger than settings.TESSERA_MAX_REQUEST_BYTES is answered 413
    before any of it is read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.TESSERA_MAX_REQUEST_BYTES
        if declared > limit:
            message = _("The upload is too large: at most %(mb)d MB per request.") % {
                "mb": limit // (1024 * 1024)
            }
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
