"""Public status pages (no login), the feeds, and the agents' page for posting incidents and maintenance."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

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


# Stands in for the CSRF token in the cached page; each response gets the visitor's own token.
CSRF_PLACEHOLDER = "tessera-status-csrf-placeholder"


@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    zone = viewer_zone(request)
    user = request.user
    if user.is_authenticated or request.GET or _has_messages(request):
        return _render(request, "status/page.html", {"content": page_fragment(zone), "zone": zone})
    # Anonymous visitors all get the same page: cache it whole (per language and zone, under the same
    # revision as the fragment) and put each visitor's CSRF token into their copy (the header's forms).
    language = translation.get_language() or "en"
    key = f"status:full:{current_revision()}:{language}:{zone.key}:{clock.now().date().isoformat()}"
    html: str | None = cache.get(key)
    if html is None:
        context = {
            "content": page_fragment(zone),
            "zone": zone,
            "request": request,
            "user": user,
            "csrf_token": CSRF_PLACEHOLDER,
            "messages": [],
        }
        html = render_to_string("status/page.html", context)
        cache.set(key, html, PAGE_CACHE_SECONDS)
    response = HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response


def _has_messages(request: HttpRequest) -> bool:
    storage = getattr(request, "_messages", None)
    return bool(storage is not None and len(storage))


@require_GET
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    try:
        incident = queries.get_incident_for(request.user, incident_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404 from None
    zone = viewer_zone(request)
    with timezone.override(zone):
        return _render(request, "status/incident.html", {"incident": incident, "zone": zone})


@require_GET
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
