from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CannedResponse(models.Model):
    """A reusable reply, for one department or (without one) for all. Placeholders such as
    ``{{ requester first name }}`` are filled in by plain substitution, never by a template engine."""

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Placeholders: {{ requester first name }}, {{ requester name }}, {{ ticket reference }}, "
            "{{ ticket subject }}, {{ agent name }}, {{ department }}."
        ),
    )
    department = models.ForeignKey(
        "accounts.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text=_("Leave empty to offer it in every department."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title
