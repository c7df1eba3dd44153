"""Public status pages (no login), the feeds, and the agents' page for posting incidents and maintenance."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import conditional_page, require_safe

from tessera.core import clock
from tessera.core.errors import NotFound
from tessera.status import queries
from tessera.status.services import current_revision

TZ_COOKIE = "tessera_tz"
PAGE_CACHE_SECONDS = 300


def viewer_zone(request: HttpRequest) -> zoneinfo.ZoneInfo:
    """The signed-in user's time zone; for anonymous visitors the one their browser told us (a cookie set
    by the page's script), else UTC."""
    user = getattr(request, "user", None)
    names = []
    if user is not None and user.is_authenticated:
        names.append(user.time_zone)
    names.append(request.COOKIES.get(TZ_COOKIE, "")[:64])
    for name in names:
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def page_fragment(zone: zoneinfo.ZoneInfo) -> str:
    """The page's content for the active language and this time zone, cached under the status revision
    (bumped by every change in the same transaction) and today's date (the bar moves daily)."""
    now = clock.now()
    language = translation.get_language() or "en"
    key = f"status:page:{current_revision()}:{language}:{zone.key}:{now.date().isoformat()}"
    html: str | None = cache.get(key)
    if html is None:
        with timezone.override(zone):
            html = render_to_string(
                "status/_page.html", {**queries.page_data(now=now, zone=zone), "zone": zone, "now": now}
            )
        cache.set(key, html, PAGE_CACHE_SECONDS)
    return html


@require_safe
@conditional_page  # an ETag from the content; a browser that holds this copy gets 304 Not Modified
def status_page(request: HttpRequest) -> HttpResponse:
    zone = viewer_zone(request)
    if request.user.is_authenticated or len(messages.get_messages(request)):
        return _render(request, "status/page.html", {"content": page_fragment(zone), "zone": zone})
    # Anonymous visitors all get the same page (no CSRF token: its language switch is a GET form), so it is
    # cached whole per language and zone, under the same revision as the fragment.
    response = HttpResponse(_anonymous_page(zone))
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response


def _anonymous_page(zone: zoneinfo.ZoneInfo) -> str:
    """The whole page as anonymous visitors get it in the active language and this zone."""
    language = translation.get_language() or "en"
    key = f"status:full:{current_revision()}:{language}:{zone.key}:{clock.now().date().isoformat()}"
    html: str | None = cache.get(key)
    if html is None:
        context = {"content": page_fragment(zone), "zone": zone, "user": AnonymousUser(), "messages": []}
        html = render_to_string("status/page.html", context)
        cache.set(key, html, PAGE_CACHE_SECONDS)
    return html


@require_safe
def set_language(request: HttpRequest) -> HttpResponse:
    """The anonymous page's language switch. A GET, so that the page carries no CSRF token and one cached
    copy serves everyone; all it does is set Django's language cookie, as the site's POST switcher does for
    anonymous visitors, and come back to the page."""
    response = redirect("status:page")
    code = request.GET.get("language", "")
    if code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


@require_safe
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        incident = queries.get_incident_for(request.user, incident_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    zone = viewer_zone(request)
    with timezone.override(zone):
        return _render(request, "status/incident.html", {"incident": incident, "zone": zone})


@require_safe
def maintenance_detail(request: HttpRequest, maintenance_id: int) -> HttpResponse:
    try:
        maintenance = queries.get_maintenance_for(request.user, maintenance_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    zone = viewer_zone(request)
    with timezone.override(zone):
        return _render(request, "status/maintenance.html", {"maintenance": maintenance, "zone": zone})


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    from django.shortcuts import render

    return render(request, template, context, status=status)
