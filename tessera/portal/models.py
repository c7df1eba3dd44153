from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


def pending_path(instance: PendingUpload, filename: str) -> str:
    # Never the user's file name: it cannot collide, traverse or carry an extension.
    return f"pending/{instance.token}/{instance.sha256}"


class PendingUpload(models.Model):
    """A file chosen on a ticket form that was sent back for corrections, kept so the person does not
    have to choose it again. Owned by its uploader, found by the form's token, purged after a day."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=43, db_index=True)
    file = models.FileField(upload_to=pending_path, max_length=200)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename
