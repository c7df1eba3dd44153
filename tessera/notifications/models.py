from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    """The kinds of message a contact can route to a separate address (the seeds: support, invoices/orders,
    abuse)."""

    SUPPORT = "support", _("Support and service announcements")
    BILLING = "billing", _("Invoices and orders")
    ABUSE = "abuse", _("Abuse reports")


class NotificationKind(models.TextChoices):
    """What a notification is about. `notify()` refuses other values, so a typo cannot slip through."""

    TICKET_CREATED = "ticket_created", _("Ticket opened for you")
    TICKET_STATUS = "ticket_status", _("Ticket status changed")
    TICKET_PRIORITY = "ticket_priority", _("Ticket priority changed")
    TICKET_REPLY = "ticket_reply", _("Reply on a ticket")
    TICKET_ASSIGNED = "ticket_assigned", _("Ticket assigned to you")
    TICKET_MENTION = "ticket_mention", _("Mentioned in an internal note")
    SLA_WARNING = "sla_warning", _("SLA target nearly due")
    SLA_BREACHED = "sla_breached", _("SLA target breached")
    INCIDENT = "incident", _("Service incident")
    MAINTENANCE = "maintenance", _("Planned maintenance")
    ANNOUNCEMENT = "announcement", _("Service announcement")


class EmailCategory(models.TextChoices):
    """Groups of notification kinds that a user switches email copies on or off for, together."""

    TICKET_UPDATES = "ticket_updates", _("Updates on your tickets")
    ANNOUNCEMENTS = "announcements", _("Service status announcements")
    ASSIGNMENTS = "assignments", _("Tickets assigned to me")
    MENTIONS = "mentions", _("Mentions in internal notes")
    SLA = "sla", _("SLA warnings and breaches on my tickets")


class NotificationAddress(models.Model):
    """An address a contact chose for one kind of message. Used only once confirmed by its link."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_addresses"
    )
    kind = models.CharField(_("kind of message"), max_length=10, choices=MessageKind.choices)
    email = models.EmailField(_("address"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by the mail app when the provider reports a hard bounce or a spam complaint for this address.
    undeliverable_at = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    undeliverable_reason = models.TextField(_("why undeliverable"), blank=True)

    class Meta:
        verbose_name = _("notification address")
        verbose_name_plural = _("notification addresses")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_address_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.email}"


class Notification(models.Model):
    """One message in a user's in-app notification centre. Created once per (user, dedupe_key)."""

    user = models.ForeignKey(  # indexed by notification_user_idx and the unique (user, dedupe_key)
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # Not a foreign key: the status app owns incidents and may be deployed without this app knowing it.
    incident_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    dedupe_key = models.CharField(max_length=200)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_once_per_key"),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="notification_user_idx"),
            # The bell: unread of one user, newest first; partial, so it stays small as history grows.
            models.Index(
                fields=["user", "-id"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailPreferences(models.Model):
    """Which categories of notification a user does not want email copies of (in-app always arrives)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    muted = models.JSONField(_("muted categories"), default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("email preferences")
        verbose_name_plural = _("email preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: muted {', '.join(self.muted) or '-'}"
