"""Reading the status page: what is public, and the page's data in a few queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import NotFound
from tessera.status.models import (
    STATE_SEVERITY,
    Component,
    ComponentGroup,
    ComponentState,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    MaintenanceStatus,
    StateChange,
)
from tessera.status.uptime import DAYS, Bar, day_bars

HISTORY_DAYS = 14


def public_incidents() -> QuerySet[Incident]:
    """Incidents with at least one public component (or none named), newest first, with their timeline."""
    return (
        Incident.objects.filter(Q(components__is_public=True) | Q(components__isnull=True))
        .distinct()
        .prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-created_at", "-id")),
            Prefetch("components", queryset=Component.objects.select_related("group")),
        )
    )


def public_maintenance() -> QuerySet[Maintenance]:
    return (
        Maintenance.objects.filter(Q(components__is_public=True) | Q(components__isnull=True))
        .distinct()
        .prefetch_related(Prefetch("components", queryset=Component.objects.select_related("group")))
    )


def get_incident_for(user: User | None, incident_id: int) -> Incident:
    """Public incidents for everyone; all of them for agents."""
    incidents = (
        Incident.objects.prefetch_related("updates", "components__group")
        if user is not None and user.is_authenticated and user.is_agent
        else public_incidents()
    )
    incident = incidents.filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(_("Incident not found."))
    return incident


def get_maintenance_for(user: User | None, maintenance_id: int) -> Maintenance:
    windows = (
        Maintenance.objects.prefetch_related("components__group")
        if user is not None and user.is_authenticated and user.is_agent
        else public_maintenance()
    )
    maintenance = windows.filter(pk=maintenance_id).first()
    if maintenance is None:
        raise NotFound(_("Maintenance not found."))
    return maintenance


@dataclass
class ComponentView:
    component: Component
    bar: Bar


@dataclass
class GroupView:
    group: ComponentGroup
    components: list[ComponentView] = field(default_factory=list)

    @property
    def state(self) -> str:
        return max(
            (c.component.state for c in self.components), key=_severity, default=ComponentState.OPERATIONAL
        )


def _severity(state: str) -> int:
    return STATE_SEVERITY[ComponentState(state)]


def page_data(*, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """Everything the public page shows; the caller caches the rendering."""
    components = list(Component.objects.filter(is_public=True).select_related("group"))
    since = now - timedelta(days=DAYS + 1)
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    # The state each component was in when the window opened, then every change inside it.
    for change in StateChange.objects.filter(component__in=components, at__gte=since).order_by("at", "id"):
        history[change.component_id].append((change.at, change.state))
    for component in components:
        if not history[component.pk] or history[component.pk][0][0] > since:
            before = (
                StateChange.objects.filter(component=component, at__lt=since).order_by("-at", "-id").first()
            )
            if before is not None:
                history[component.pk].insert(0, (before.at, before.state))
    groups: dict[int, GroupView] = {}
    for component in components:
        view = groups.setdefault(component.group_id, GroupView(group=component.group))
        view.components.append(ComponentView(component, day_bars(history[component.pk], now=now, zone=zone)))
    states = [c.state for c in components]
    overall = max(states, key=_severity, default=ComponentState.OPERATIONAL)
    incidents = list(
        public_incidents().filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__gte=now - timedelta(days=HISTORY_DAYS))
        )
    )
    return {
        "groups": list(groups.values()),
        "overall": overall,
        "overall_label": ComponentState(overall).label,
        "active_incidents": [i for i in incidents if i.status != IncidentStatus.RESOLVED],
        "past_incidents": [i for i in incidents if i.status == IncidentStatus.RESOLVED],
        "maintenance": list(
            public_maintenance()
            .filter(status__in=[MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS])
            .order_by("starts_at")
        ),
        "days": DAYS,
        "history_days": HISTORY_DAYS,
    }
