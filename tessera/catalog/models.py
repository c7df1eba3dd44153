from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CustomerService(models.Model):
    """A service or order a customer holds, named as the client area shows it (the seeds ask for "the
    service as displayed in the client area" in every critical ticket). It belongs to a user, to their
    organisation (then every member sees it), or to both."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="services",
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="services",
    )
    name = models.CharField(_("service name"), max_length=200, help_text=_("As the client area shows it."))
    order_number = models.CharField(_("order number"), max_length=64, blank=True)
    ip_addresses = models.JSONField(_("IP addresses"), default=list, blank=True)
    component = models.ForeignKey(
        "status.Component",
        verbose_name=_("status page component"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customer_services",
        db_index=False,  # service_component_idx starts with it
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer service")
        verbose_name_plural = _("customer services")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | models.Q(organisation__isnull=False),
                name="service_has_customer",
            )
        ]
        indexes = [
            # Announcements: every active service running on the affected components.
            models.Index(fields=["component", "is_active"], name="service_component_idx"),
            models.Index(fields=["order_number"], name="service_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.order_number})" if self.order_number else self.name
