"""The service status page: components and their states, incidents with their timeline, planned maintenance,
the announcements they send, and the tickets linked to an incident."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ComponentState(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    DEGRADED = "degraded", _("Degraded performance")
    PARTIAL_OUTAGE = "partial_outage", _("Partial outage")
    MAJOR_OUTAGE = "major_outage", _("Major outage")
    MAINTENANCE = "maintenance", _("Under maintenance")


# How bad each state is, for "the worst state wins" on a day or a group.
STATE_SEVERITY = {
    ComponentState.OPERATIONAL: 0,
    ComponentState.MAINTENANCE: 1,
    ComponentState.DEGRADED: 2,
    ComponentState.PARTIAL_OUTAGE: 3,
    ComponentState.MAJOR_OUTAGE: 4,
}


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")


class IncidentImpact(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class ComponentGroup(models.Model):
    """A service as customers know it, e.g. "Dedicated servers"."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("component group")
        verbose_name_plural = _("component groups")

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    """Where a service runs, e.g. "Frankfurt" in "Dedicated servers"; its state is shown publicly."""

    group = models.ForeignKey(
        ComponentGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="components"
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    state = models.CharField(
        _("state"), max_length=16, choices=ComponentState.choices, default=ComponentState.OPERATIONAL
    )
    is_public = models.BooleanField(_("shown on the status page"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["group__order", "group__name", "order", "name"]
        verbose_name = _("component")
        verbose_name_plural = _("components")
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="unique_component_in_group")]

    def __str__(self) -> str:
        return f"{self.group.name} / {self.name}"


class StateChange(models.Model):
    """A component entered `state` at `at`: the history the 90-day uptime bar is drawn from."""

    component = models.ForeignKey(  # indexed by status_statechange_idx
        Component, on_delete=models.CASCADE, related_name="state_changes", db_index=False
    )
    state = models.CharField(max_length=16, choices=ComponentState.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["component", "at"], name="status_statechange_idx")]

    def __str__(self) -> str:
        return f"{self.component_id} {self.state} @ {self.at:%Y-%m-%d %H:%M}"


class Incident(models.Model):
    title = models.CharField(_("title"), max_length=200)
    impact = models.CharField(
        _("impact"), max_length=10, choices=IncidentImpact.choices, default=IncidentImpact.MINOR
    )
    status = models.CharField(
        _("status"), max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    components = models.ManyToManyField(
        Component, verbose_name=_("affected components"), related_name="incidents", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("posted by")
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["status", "-started_at"], name="status_incident_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_resolved(self) -> bool:
        return self.status == IncidentStatus.RESOLVED


class IncidentUpdate(models.Model):
    """One entry of an incident's public timeline."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(_("status"), max_length=16, choices=IncidentStatus.choices)
    body = models.TextField(_("message"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("posted"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.get_status_display()}"


class Maintenance(models.Model):
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=MaintenanceStatus.choices, default=MaintenanceStatus.SCHEDULED
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    components = models.ManyToManyField(
        Component, verbose_name=_("affected components"), related_name="maintenances", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("posted by")
    )
    created_at = models.DateTimeField(_("posted"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # iCalendar SEQUENCE: bumped on every change, so calendar clients replace their copy of the event.
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("planned maintenance")
        verbose_name_plural = _("planned maintenance")
        constraints = [
            # The service refuses it with a clear message; this keeps every other path honest too.
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Announcement(models.Model):
    """One message to the customers of the affected components: written in the same transaction as the
    incident, update or maintenance it announces, delivered later in chunks by tasks."""

    class Subject(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        INCIDENT_UPDATE = "incident_update", _("Incident update")
        MAINTENANCE = "maintenance", _("Planned maintenance")
        MAINTENANCE_UPDATE = "maintenance_update", _("Maintenance update")

    subject = models.CharField(max_length=20, choices=Subject.choices)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="announcements"
    )
    update = models.ForeignKey(
        IncidentUpdate, null=True, blank=True, on_delete=models.CASCADE, related_name="announcements"
    )
    maintenance = models.ForeignKey(
        Maintenance, null=True, blank=True, on_delete=models.CASCADE, related_name="announcements"
    )
    component_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # Set by the conditional UPDATE that claims the fan-out: a retried task never fans out twice.
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} #{self.pk}"


class IncidentTicket(models.Model):
    """A ticket an agent linked to an incident: resolving the incident can answer them all at once."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="incident_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["incident", "ticket"], name="unique_incident_ticket")]

    def __str__(self) -> str:
        return f"{self.incident_id} ↔ {self.ticket_id}"


class Revision(models.Model):
    """A single row counting changes to the status page; the page cache key carries it, so any change
    (from any process or host) makes every cached copy stale at once."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)
