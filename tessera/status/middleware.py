"""The public status page answered from the cache, early in the middleware stack."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware

from tessera.status import views


class StatusPageMiddleware:
    """Serves the cached status page to visitors who cannot be signed in, skipping the rest of the stack.

    The status page takes the traffic of an outage, and most of a cached hit's CPU went into middlewares
    with nothing to do for a visitor without a session or messages cookie (sessions, auth, messages,
    allauth, portal). For such a visitor this sends the copy the view cached for anonymous visitors,
    passed through the same hooks of the middlewares that do shape that response: LocaleMiddleware
    (language and Content-Language), CommonMiddleware (host check, Content-Length), CsrfViewMiddleware
    (which replaces a malformed CSRF cookie; the page itself holds no token) and XFrameOptionsMiddleware.
    The security middlewares sit above this one and still run. Anything else (a cookie that may carry a
    session or messages, a cache miss, a request CommonMiddleware would refuse or redirect) goes down the
    full stack, whose view fills the cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.locale = LocaleMiddleware(get_response)
        self.common = CommonMiddleware(get_response)
        self.csrf = CsrfViewMiddleware(get_response)
        self.xframe = XFrameOptionsMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not self._anonymous_page_request(request):
            return self.get_response(request)
        self.locale.process_request(request)
        html = views.cached_anonymous_page(views.viewer_zone(request))
        if html is None:
            return self.get_response(request)
        self.csrf.process_request(request)
        page = views.anonymous_page_response(html)
        # Through these middlewares in the full stack's order.
        response: HttpResponseBase = self.xframe.process_response(request, page)
        for middleware in (self.csrf, self.common, self.locale):
            response = middleware.process_response(request, response)
        return response

    def _anonymous_page_request(self, request: HttpRequest) -> bool:
        if (
            request.method not in ("GET", "HEAD")
            or request.path_info != views.PAGE_PATH
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or CookieStorage.cookie_name in request.COOKIES
        ):
            return False
        try:
            # A request CommonMiddleware answers itself (redirect, or an error for a bad host or agent).
            return self.common.process_request(request) is None
        except (DisallowedHost, PermissionDenied):
            return False
