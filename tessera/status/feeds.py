"""Following the status without visiting the page: an Atom feed of incident updates and planned maintenance,
and an iCalendar feed of maintenance windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tessera.core import clock
from tessera.core.errors import NotFound
from tessera.status import queries
from tessera.status.models import IncidentUpdate, Maintenance, MaintenanceStatus

FEED_ITEMS = 50
CALENDAR_PAST_DAYS = 90


@dataclass
class Entry:
    key: str
    title: str
    body: str
    link: str
    at: datetime
    updated: datetime


class StatusFeed(Feed[Entry, None]):
    feed_type = Atom1Feed

    def title(self) -> str:
        return _("Service status")

    def subtitle(self) -> str:
        return _("Incidents and planned maintenance")

    def link(self) -> str:
        return reverse("status:page")

    def items(self) -> list[Entry]:
        public = queries.public_incidents().values("pk")
        updates = (
            IncidentUpdate.objects.filter(incident__in=public)
            .select_related("incident")
            .order_by("-created_at", "-id")[:FEED_ITEMS]
        )
        entries = [
            Entry(
                key=f"update-{u.pk}",
                title=f"{u.incident.title}: {u.get_status_display()}",
                body=u.body,
                link=reverse("status:incident", args=[u.incident_id]) + f"#update-{u.pk}",
                at=u.created_at,
                updated=u.created_at,
            )
            for u in updates
        ]
        for window in queries.public_maintenance().order_by("-created_at")[:FEED_ITEMS]:
            entries.append(
                Entry(
                    key=f"maintenance-{window.pk}",
                    title=_("Planned maintenance: %(title)s") % {"title": window.title},
                    body=_("From %(start)s to %(end)s (UTC)\n%(description)s")
                    % {
                        "start": window.starts_at.strftime("%Y-%m-%d %H:%M"),
                        "end": window.ends_at.strftime("%Y-%m-%d %H:%M"),
                        "description": window.description,
                    },
                    link=reverse("status:maintenance", args=[window.pk]),
                    at=window.created_at,
                    updated=window.updated_at,
                )
            )
        entries.sort(key=lambda e: e.at, reverse=True)
        return entries[:FEED_ITEMS]

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_description(self, item: Entry) -> str:
        return item.body  # the feed generator escapes it

    def item_link(self, item: Entry) -> str:
        return item.link

    def item_guid(self, item: Entry) -> str:
        return f"tag:tessera,status:{item.key}"

    def item_guid_is_permalink(self, item: Entry) -> bool:
        return False

    def item_pubdate(self, item: Entry) -> datetime:
        return item.at

    def item_updateddate(self, item: Entry) -> datetime:
        return item.updated


ICAL_STATUS = {
    MaintenanceStatus.SCHEDULED: "CONFIRMED",
    MaintenanceStatus.IN_PROGRESS: "CONFIRMED",
    MaintenanceStatus.COMPLETED: "CONFIRMED",
}


def _event(request: HttpRequest, window: Maintenance, stamp: datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"maintenance-{window.pk}@{request.get_host().split(':')[0]}")
    event.add("dtstamp", stamp)
    event.add("dtstart", window.starts_at)
    event.add("dtend", window.ends_at)
    event.add("summary", window.title)
    affected = ", ".join(f"{c.group.name} / {c.name}" for c in window.components.all())
    description = window.description
    if affected:
        description = f"{description}\n\n{_('Affected:')} {affected}".strip()
    event.add("description", description)
    event.add("status", ICAL_STATUS[MaintenanceStatus(window.status)])
    event.add("last-modified", window.updated_at)
    event.add("sequence", window.sequence)
    event.add("url", request.build_absolute_uri(reverse("status:maintenance", args=[window.pk])))
    event.add("categories", [_("Maintenance")])
    return event


def _calendar(request: HttpRequest, windows: list[Maintenance]) -> HttpResponse:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Tessera//Service status//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Planned maintenance"))
    stamp = clock.now()
    for window in windows:
        calendar.add_component(_event(request, window, stamp))
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="maintenance.ics"'
    return response


@require_GET
def maintenance_calendar(request: HttpRequest) -> HttpResponse:
    """Every public window of the last 90 days and the future."""
    since = clock.now() - timedelta(days=CALENDAR_PAST_DAYS)
    windows = list(queries.public_maintenance().filter(ends_at__gte=since).order_by("starts_at"))
    return _calendar(request, windows)


@require_GET
def maintenance_event(request: HttpRequest, maintenance_id: int) -> HttpResponse:
    try:
        window = queries.get_maintenance_for(None, maintenance_id)
    except NotFound:
        raise Http404 from None
    return _calendar(request, [window])
