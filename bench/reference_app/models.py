from __future__ import annotations

from django.db import models
from django.utils import timezone


class Hit(models.Model):
    """One row per request: the cheapest write a Django view can do."""

    label = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.label
