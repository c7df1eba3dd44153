"""Delivering announcements: who is told, in chunks, and what each customer reads (in their language, with
their own affected services and times in their time zone).

Durability: the Announcement row and its fan-out task are written in the transaction that posts the
incident or maintenance. Idempotency: the fan-out is claimed by a conditional UPDATE, and each
notification carries the dedupe key "status:announcement:<id>", unique per user, so a retried chunk
creates no second notification and queues no second email."""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.status.models import Announcement, IncidentStatus
from tessera.status.services import recipient_ids

CHUNK = 500


def dedupe_key(announcement: Announcement) -> str:
    return f"status:announcement:{announcement.pk}"


def fan_out(announcement_id: int) -> int:
    """Claim the announcement, then enqueue one delivery task per CHUNK recipients in the same
    transaction as the claim; a second run finds it claimed and does nothing."""
    from tessera.status.tasks import deliver_announcement_chunk

    announcement = Announcement.objects.filter(pk=announcement_id).first()
    if announcement is None or announcement.fanned_out_at is not None:
        return 0
    with transaction.atomic():
        if not Announcement.objects.filter(pk=announcement_id, fanned_out_at__isnull=True).update(
            fanned_out_at=clock.now()
        ):
            return 0
        ids = recipient_ids(list(announcement.component_ids))
        chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
        for chunk in chunks:
            deliver_announcement_chunk.enqueue(announcement_id, chunk)
        Announcement.objects.filter(pk=announcement_id).update(recipients=len(ids), chunks=len(chunks))
    return len(ids)


def deliver_chunk(announcement_id: int, user_ids: list[int]) -> int:
    """Notify these recipients of the announcement; returns how many were new."""
    from tessera.notifications.models import NotificationKind
    from tessera.notifications.services import notify_many

    announcement = (
        Announcement.objects.select_related("incident", "update", "maintenance")
        .filter(pk=announcement_id)
        .first()
    )
    if announcement is None:
        return 0
    users = list(User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk"))
    if not users:
        return 0
    affected = _affected_services(announcement, users)
    is_incident = announcement.incident_id is not None
    if is_incident:
        url = reverse("status:incident", args=[announcement.incident_id])
        kind = NotificationKind.INCIDENT
    else:
        url = reverse("status:maintenance", args=[announcement.maintenance_id])
        kind = NotificationKind.MAINTENANCE

    def render(user: User) -> tuple[str, str]:
        return render_announcement(announcement, user, affected.get(user.pk, []))

    return notify_many(
        users,
        kind=kind,
        render=render,
        url=url,
        dedupe_key=dedupe_key(announcement),
        email=True,
        message_kind="support",
        incident_id=announcement.incident_id,
    )


def _affected_services(announcement: Announcement, users: list[User]) -> dict[int, list[str]]:
    """Each recipient's own services on the affected components, in one query for the whole chunk."""
    from tessera.catalog.models import CustomerService

    by_org: dict[int, list[int]] = defaultdict(list)
    for user in users:
        if user.organisation_id:
            by_org[user.organisation_id].append(user.pk)
    services = CustomerService.objects.filter(
        Q(user_id__in=[u.pk for u in users]) | Q(organisation_id__in=list(by_org)),
        component_id__in=announcement.component_ids,
        is_active=True,
    ).values_list("user_id", "organisation_id", "name", "order_number")
    result: dict[int, list[str]] = defaultdict(list)
    for user_id, organisation_id, name, order in services:
        label = f"{name} (#{order})" if order else name
        owners = set(by_org.get(organisation_id, [])) if organisation_id else set()
        if user_id:
            owners.add(user_id)
        for owner in owners:
            if label not in result[owner]:
                result[owner].append(label)
    return result


def _when(moment: datetime, user: User) -> str:
    try:
        zone = zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{formats.date_format(local, 'DATETIME_FORMAT')} ({local.tzname()}, {zone.key})"


def render_announcement(announcement: Announcement, user: User, services: list[str]) -> tuple[str, str]:
    """(title, body) of the announcement for one customer; called with their language active."""
    lines: list[str] = []
    if announcement.incident is not None:
        incident = announcement.incident
        update = announcement.update
        status = IncidentStatus(update.status).label if update else IncidentStatus(incident.status).label
        if announcement.subject == Announcement.Subject.INCIDENT:
            title = _("Incident: %(title)s") % {"title": incident.title}
        elif update is not None and update.status == IncidentStatus.RESOLVED:
            title = _("Resolved: %(title)s") % {"title": incident.title}
        else:
            title = _("Incident update (%(status)s): %(title)s") % {"status": status, "title": incident.title}
        lines.append(_("Status: %(status)s") % {"status": status})
        if update is not None:
            lines.append(_("Posted: %(when)s") % {"when": _when(update.created_at, user)})
            lines += ["", update.body]
    else:
        maintenance = announcement.maintenance
        assert maintenance is not None  # noqa: S101 - an announcement is about an incident or a maintenance
        if announcement.subject == Announcement.Subject.MAINTENANCE:
            title = _("Planned maintenance: %(title)s") % {"title": maintenance.title}
        else:
            title = _("Maintenance update: %(title)s") % {"title": maintenance.title}
        lines.append(_("Starts: %(when)s") % {"when": _when(maintenance.starts_at, user)})
        lines.append(_("Ends: %(when)s") % {"when": _when(maintenance.ends_at, user)})
        if maintenance.description:
            lines += ["", maintenance.description]
    if services:
        lines += ["", _("Your affected services:")] + [f"- {name}" for name in services]
    return title, "\n".join(lines)
