from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

if TYPE_CHECKING:
    from tessera.accounts.models import User


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    EMAIL = "email", pgettext_lazy("ticket channel", "Email")
    PHONE = "phone", pgettext_lazy("ticket channel", "Phone")
    CHAT = "chat", _("Live chat")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class Status(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", pgettext_lazy("ticket status", "Open")
    WAITING = "waiting", pgettext_lazy("ticket status", "Waiting on customer")
    RESOLVED = "resolved", pgettext_lazy("ticket status", "Resolved")
    CLOSED = "closed", pgettext_lazy("ticket status", "Closed")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)


class Impact(models.TextChoices):
    ORGANISATION = "organisation", _("The whole organisation")
    SEVERAL = "several", _("Several users")
    ONE = "one", _("One user")


class Urgency(models.TextChoices):
    CRITICAL = "critical", _("Critical: work has stopped")
    HIGH = "high", _("High: work is seriously impaired")
    MEDIUM = "medium", _("Medium: a workaround exists")
    LOW = "low", _("Low: an inconvenience")


class Frequency(models.TextChoices):
    ONCE = "once", _("Once")
    INTERMITTENT = "intermittent", _("From time to time")
    CONSTANT = "constant", _("All the time")


class Location(models.TextChoices):
    OFFICE = "office", _("At the office")
    OFFSITE = "offsite", _("Off-site")
    BOTH = "both", _("Both")


class OthersAffected(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("I don't know")


class Priority(models.Model):
    """A configurable priority; `rank` orders them (higher is more urgent)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    slug = models.SlugField(_("slug"), max_length=30, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")
    is_default = models.BooleanField(_("default for new tickets"), default=False)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("priority")
        verbose_name_plural = _("priorities")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class RequiredFields(models.Model):
    """Which incident details a ticket must carry, per department and/or priority.

    A rule with no department applies to every department, one with no priority to every priority.
    The pseudo-field `ip_or_order` is satisfied by either a server IP or an order number.
    """

    FIELD_CHOICES = (
        ("affected_service", _("Affected service")),
        ("ip_or_order", _("Server IP or order number")),
        ("problem_started_at", _("When the problem started")),
        ("frequency", _("How often it happens")),
        ("location", _("Where it happens")),
        ("error_message", _("Exact error message")),
        ("others_affected", _("Others affected")),
        ("recent_changes", _("Recent changes")),
        ("diagnostics", _("Diagnostics")),
        ("attachment", _("At least one attachment")),
    )

    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="required_fields"
    )
    priority = models.ForeignKey(Priority, null=True, blank=True, on_delete=models.CASCADE)
    fields = models.JSONField(_("required fields"), default=list)

    class Meta:
        verbose_name = _("required incident details")
        verbose_name_plural = _("required incident details")

    def __str__(self) -> str:
        return f"{self.department or '*'} / {self.priority or '*'}: {', '.join(self.fields)}"


class Ticket(models.Model):
    subject = models.CharField(_("subject"), max_length=250)
    description = models.TextField(_("description"))
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="requested_tickets",
        db_index=False,  # ticket_requester_idx starts with it
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="submitted_tickets",
        help_text=_("A colleague or an agent who filed the request on the requester's behalf."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_queue_idx starts with it
    )
    priority = models.ForeignKey(Priority, verbose_name=_("priority"), on_delete=models.PROTECT)
    impact = models.CharField(_("impact"), max_length=16, choices=Impact.choices, blank=True)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,  # ticket_assignee_idx starts with it
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="tickets")
    cc = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("CC contacts"), blank=True, related_name="cc_tickets"
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_tickets",
        db_index=False,  # partial index below
    )

    # Incident details (the seeds' checklist)
    affected_service = models.CharField(_("affected service"), max_length=200, blank=True)
    server_ip = models.GenericIPAddressField(_("server IP"), null=True, blank=True)
    order_number = models.CharField(_("order number"), max_length=64, blank=True)
    problem_started_at = models.DateTimeField(_("problem started"), null=True, blank=True)
    problem_started_tz = models.CharField(_("time zone of the start"), max_length=64, blank=True)
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency.choices, blank=True)
    location = models.CharField(_("location"), max_length=16, choices=Location.choices, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    others_affected = models.CharField(
        _("others affected"), max_length=8, choices=OthersAffected.choices, blank=True
    )
    recent_changes = models.TextField(_("recent changes"), blank=True)
    diagnostics = models.TextField(_("diagnostics"), blank=True)
    customer_service = models.ForeignKey(
        "catalog.CustomerService",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        db_index=False,  # partial index below
    )

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Optimistic locking: every change bumps it; a write based on an older version is a conflict.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # Agent queues: department (+ status) newest first, keyset-paginated on id.
            models.Index(fields=["department", "status", "-id"], name="ticket_queue_idx"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_idx"),
            models.Index(fields=["requester", "-id"], name="ticket_requester_idx"),
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_updated_idx"),
            # Few tickets are merged or name a service: partial indexes skip the others, so a new ticket
            # writes no page of them. A foreign key's own indexes above are left to the composite ones
            # that start with it (each index is pages every new ticket writes).
            models.Index(
                fields=["merged_into"], condition=Q(merged_into__isnull=False), name="ticket_merged_into_idx"
            ),
            models.Index(
                fields=["customer_service"],
                condition=Q(customer_service__isnull=False),
                name="ticket_customer_service_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def cc_people(self) -> list[User]:
        """The CC contacts (users)."""
        return list(self.cc.all())

    @property
    def reference(self) -> str:
        return f"{settings.TESSERA_TICKET_PREFIX}-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(models.Model):
    class Kind(models.TextChoices):
        REPLY = "reply", pgettext_lazy("message kind", "Reply")
        NOTE = "note", _("Internal note")

    ticket = models.ForeignKey(  # indexed by message_ticket_idx
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.REPLY)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a merge moved this from a ticket of another requester: customers see it only through that
    # ticket, as before the merge, until an agent makes it public on the new one (tickets.access).
    merged_from = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_idx"),
            models.Index(
                fields=["merged_from"], condition=Q(merged_from__isnull=False), name="message_merged_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind == self.Kind.REPLY


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the user: it cannot collide, traverse or carry an extension.
    return f"attachments/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a merge moved this from a ticket of another requester: customers see it only through that
    # ticket, as before the merge, until an agent makes it public on the new one (tickets.access).
    merged_from = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["merged_from"], condition=Q(merged_from__isnull=False), name="attachment_merged_idx"
            )
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}


class TimelineEvent(models.Model):
    """One immutable entry of a ticket's audit trail: who changed what, when, through which channel."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Ticket created")
        REPLIED = "replied", pgettext_lazy("message kind", "Reply")
        NOTE_ADDED = "note_added", _("Internal note")
        STATUS_CHANGED = "status_changed", _("Status changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        ASSIGNED = "assigned", _("Assignee changed")
        DEPARTMENT_CHANGED = "department_changed", _("Department changed")
        FIELDS_CHANGED = "fields_changed", _("Details changed")
        TAGS_CHANGED = "tags_changed", _("Tags changed")
        CC_CHANGED = "cc_changed", _("CC changed")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        MERGED = "merged", _("Merged")
        MERGED_FROM = "merged_from", _("Ticket merged in")
        MESSAGE_PUBLISHED = "message_published", _("Merged message made public")
        SLA_WARNING = "sla_warning", _("SLA target nearly due")
        SLA_BREACHED = "sla_breached", _("SLA target breached")

    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,  # event_ticket_idx
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "id"], name="event_ticket_idx"),
            # Most events carry no message: partial, so they write no page of it.
            models.Index(fields=["message"], condition=Q(message__isnull=False), name="event_message_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Timeline events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Timeline events are immutable.")


class AgentLoad(models.Model):
    """How many open tickets an agent holds, kept in the same transaction as every change of a ticket's
    assignee or open/closed state, so routing reads one row per agent instead of counting their tickets
    (a count that grew with history: 2 s per new ticket at a million). `last_assigned_at` breaks ties
    round-robin. An hourly recount repairs any drift (e.g. rows edited outside the services)."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="load"
    )
    open_tickets = models.IntegerField(default=0)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("agent load")
        verbose_name_plural = _("agent loads")

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.open_tickets}"
