"""SLA configuration (calendars, matrix, policies, targets) and the per-ticket clock state.

Due instants are stored and indexed so queues can sort by "due soonest" and the sweep can find
what needs checking without computing anything at read time.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tessera.sla.calendar import Calendar
from tessera.tickets.models import Channel, Impact, Urgency

TARGETS = ("first_response", "next_response", "resolution", "acknowledge")


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")


class BusinessCalendar(models.Model):
    """Opening hours as data admins edit; the pure arithmetic lives in `sla.calendar`."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    definition = models.JSONField(
        _("definition"),
        help_text=_("Time zone, weekly hours, holidays, closed days and extra openings."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            Calendar.from_dict(self.definition)
        except (TypeError, ValueError) as exc:
            raise ValidationError({"definition": str(exc)}) from exc

    def as_calendar(self) -> Calendar:
        """The pure calendar, parsed once per distinct definition: parsing looks up the holiday
        tables, which costs about a millisecond, far more than a due-time computation."""
        return _parsed_calendar(json.dumps(self.definition, sort_keys=True))


@lru_cache(maxsize=128)
def _parsed_calendar(definition: str) -> Calendar:
    # Calendar is frozen and hashable, so one instance is safely shared by every caller.
    return Calendar.from_dict(json.loads(definition))


class PriorityMatrix(models.Model):
    """One cell of the impact x urgency → priority matrix."""

    impact = models.CharField(_("impact"), max_length=16, choices=Impact.choices)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    priority = models.ForeignKey("tickets.Priority", verbose_name=_("priority"), on_delete=models.PROTECT)

    class Meta:
        ordering = ["impact", "urgency"]
        verbose_name = _("priority matrix entry")
        verbose_name_plural = _("priority matrix")
        constraints = [models.UniqueConstraint(fields=["impact", "urgency"], name="sla_matrix_cell_unique")]

    def __str__(self) -> str:
        return f"{self.impact} x {self.urgency} → {self.priority_id}"


class SlaPolicy(models.Model):
    """Targets per priority, counted on one calendar; the first active policy (by order) whose
    conditions all match a ticket applies. An empty condition matches everything."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="policies"
    )

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """Business minutes allowed per target for one priority; an empty value means no target. A
    priority may be counted on a calendar of its own (Critical around the clock, the rest in business
    hours); empty: the policy's."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.ForeignKey("tickets.Priority", verbose_name=_("priority"), on_delete=models.CASCADE)
    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # a table of a few rows per policy
        help_text=_("Empty: the policy's calendar."),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)
    acknowledge_minutes = models.PositiveIntegerField(_("acknowledge (minutes)"), null=True, blank=True)

    class Meta:
        ordering = ["policy", "priority__rank"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_per_priority_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy_id}/{self.priority_id}"

    @property
    def effective_calendar_id(self) -> int:
        return self.calendar_id or self.policy.calendar_id

    def minutes(self) -> dict[str, int]:
        """The targets that are set, by name."""
        values = {name: getattr(self, f"{name}_minutes") for name in TARGETS}
        return {name: value for name, value in values.items() if value is not None}


class TicketSla(models.Model):
    """A ticket's SLA clocks. Dues are always recomputed from `started_at` with every pause, so a
    pause, a reopen or a priority change never accumulates rounding or ordering errors."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="sla")
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="ticket_states"
    )
    # The calendar the clocks count on: the target's for the ticket's priority, else the policy's. Not
    # indexed: only a calendar change (rare, batched) filters on it alone; queues filter on due_at.
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Snapshot of the policy's minutes for the ticket's priority, taken at start and on every
    # priority/department change, so later edits of a policy do not move promised dues.
    targets = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    paused_since = models.DateTimeField(null=True, blank=True)
    pauses = models.JSONField(default=list, blank=True)  # [[start ISO, end ISO], ...], closed spans
    stopped_at = models.DateTimeField(null=True, blank=True)  # closed or merged: every clock stops

    first_response_due = models.DateTimeField(null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    next_response_started_at = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    next_response_cycle = models.PositiveIntegerField(default=0)  # one per awaited customer reply
    resolution_due = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledge_due = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    first_response_breached = models.BooleanField(default=False)
    next_response_breached = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    acknowledge_breached = models.BooleanField(default=False)

    # Queues and scans read the dues through due_at and next_check_at only: the four dues above are not
    # indexed, since every new ticket would write a page of each.
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The earliest due instant of a clock still running (not met, not paused, not stopped): the
    # one column queues sort and filter on ("due soonest", "breached", "breaching within the hour").
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Business minutes it took, measured once when the clock stopped, so reports aggregate in SQL.
    first_response_minutes = models.FloatField(null=True, blank=True)
    resolution_minutes = models.FloatField(null=True, blank=True)
    acknowledge_minutes = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("ticket SLA state")
        verbose_name_plural = _("ticket SLA states")

    def __str__(self) -> str:
        return f"SLA of {self.ticket_id}"

    def closed_pauses(self) -> list[tuple[datetime, datetime]]:
        return [(datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in self.pauses]

    def all_pauses(self) -> list[tuple[datetime, datetime | None]]:
        """Closed pauses plus the running one (open-ended), as `sla.calendar` expects them."""
        spans: list[tuple[datetime, datetime | None]] = list(self.closed_pauses())
        if self.paused_since is not None:
            spans.append((self.paused_since, None))
        return spans


class EscalationRule(models.Model):
    """What happens when a policy's target nears its due instant (warning, 75 %) or passes it
    (breach). Every matching rule runs once, in the transaction that records the escalation."""

    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")

    policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("policy"), on_delete=models.CASCADE, related_name="escalation_rules"
    )
    level = models.CharField(_("when"), max_length=8, choices=Level.choices, default=Level.BREACH)
    target = models.CharField(
        _("target"), max_length=16, choices=Target.choices, blank=True, help_text=_("Empty: every target.")
    )
    # The assignee (or, on an unassigned ticket, the department leads) always hears of a warning
    # or breach through the notifications app; a rule can add the leads on assigned tickets too.
    notify_lead = models.BooleanField(_("also notify the department leads"), default=False)
    raise_priority = models.BooleanField(_("raise the priority one step"), default=False)
    unassign = models.BooleanField(_("unassign (back to the queue)"), default=False)
    move_to = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("move to department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["policy", "id"]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")

    def __str__(self) -> str:
        return f"{self.policy_id}: {self.level} {self.target or '*'}"

    def applies_to(self, target: str, level: str) -> bool:
        return self.level == level and self.target in ("", target)


class DepartmentSla(models.Model):
    """Per-department SLA options: how customers set the priority of a new ticket."""

    class PriorityInput(models.TextChoices):
        DIRECT = "direct", _("Customers pick the priority")
        MATRIX = "matrix", _("Customers answer impact and urgency questions")

    department = models.OneToOneField(
        "accounts.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="sla"
    )
    priority_input = models.CharField(
        _("priority input"), max_length=8, choices=PriorityInput.choices, default=PriorityInput.DIRECT
    )

    class Meta:
        verbose_name = _("department SLA option")
        verbose_name_plural = _("department SLA options")

    def __str__(self) -> str:
        return f"{self.department_id}: {self.priority_input}"


class SlaEscalation(models.Model):
    """A warning or breach already escalated; the unique constraint makes each happen once per
    target (and per awaited customer reply, for next response)."""

    class Level(models.TextChoices):
        WARNING = "warning", _("Warning")
        BREACH = "breach", _("Breach")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_escalations")
    target = models.CharField(max_length=16, choices=Target.choices)
    level = models.CharField(max_length=8, choices=Level.choices)
    cycle = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    event = models.ForeignKey(
        "tickets.TimelineEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("SLA escalation")
        verbose_name_plural = _("SLA escalations")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "level", "cycle"], name="sla_escalation_once_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.target} on {self.ticket_id}"

    def as_key(self) -> tuple[str, str, int]:
        return (self.target, self.level, self.cycle)
