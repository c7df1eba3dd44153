from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    """The kinds of message a contact can route to a separate address (the seeds: support, invoices/orders,
    abuse)."""

    SUPPORT = "support", _("Support and service announcements")
    BILLING = "billing", _("Invoices and orders")
    ABUSE = "abuse", _("Abuse reports")


class NotificationAddress(models.Model):
    """An address a contact chose for one kind of message. Used only once confirmed by its link."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_addresses"
    )
    kind = models.CharField(_("kind of message"), max_length=10, choices=MessageKind.choices)
    email = models.EmailField(_("address"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification address")
        verbose_name_plural = _("notification addresses")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_address_per_kind")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.email}"
