"""Client-area logic that is not a ticket command: the incident details a form must ask for, files kept
between attempts at the new-ticket form, and saving preferences."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q

from tessera.accounts.models import Department, User
from tessera.core import clock
from tessera.portal.models import PendingUpload
from tessera.tickets.attachments import CheckedFile, check_daily_quota
from tessera.tickets.models import Priority, RequiredFields

logger = logging.getLogger("tessera.portal")


@dataclass(frozen=True)
class Requirements:
    """Which incident details a department and priority require (RequiredFields, as create_ticket checks)."""

    fields: frozenset[str]

    def needs(self, name: str) -> bool:
        if name in ("server_ip", "order_number"):
            return "ip_or_order" in self.fields
        if name == "attachments":
            return "attachment" in self.fields
        if name == "problem_started_tz":
            return "problem_started_at" in self.fields
        return name in self.fields

    @property
    def ip_or_order(self) -> bool:
        return "ip_or_order" in self.fields


def requirements(department: Department | None, priority: Priority | None) -> Requirements:
    """The union of every rule matching the department and priority (a rule without one matches all)."""
    if department is None:
        return Requirements(frozenset())
    rules = RequiredFields.objects.filter(Q(department=department) | Q(department__isnull=True))
    rules = (
        rules.filter(Q(priority=priority) | Q(priority__isnull=True))
        if priority
        else rules.filter(priority__isnull=True)
    )
    names: set[str] = set()
    for rule in rules:
        names.update(str(name) for name in rule.fields)
    return Requirements(frozenset(names))


def uses_matrix(department: Department | None) -> bool:
    """Whether customers of the department answer impact and urgency instead of picking a priority."""
    if department is None:
        return False
    from tessera.sla.queries import uses_matrix as sla_uses_matrix

    return sla_uses_matrix(department)


# Pending uploads ------------------------------------------------------------------------------------------


def new_upload_token() -> str:
    return secrets.token_urlsafe(24)


def pending_uploads(owner: User, token: str) -> list[PendingUpload]:
    """The files this person already chose on the form identified by `token` (nobody else's)."""
    if not token:
        return []
    cutoff = clock.now() - timedelta(hours=settings.TESSERA_PENDING_UPLOAD_HOURS)
    return list(PendingUpload.objects.filter(owner=owner, token=token, created_at__gte=cutoff))


def keep_uploads(owner: User, token: str, files: list[CheckedFile]) -> list[PendingUpload]:
    """Store checked files of a refused form so the next attempt still has them, within the person's
    daily quota of stored files (pending ones count too: they take space until purged)."""
    held = PendingUpload.objects.filter(owner=owner, created_at__gte=clock.now() - timedelta(hours=24))
    check_daily_quota(owner, files, held=list(held.values_list("size", flat=True)))
    kept = []
    with transaction.atomic():
        for checked in files:
            upload = PendingUpload(
                owner=owner,
                token=token,
                filename=checked.filename,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
                created_at=clock.now(),
            )
            upload.file.save(checked.sha256, ContentFile(checked.content), save=False)
            upload.save()
            kept.append(upload)
    return kept


def as_files(uploads: list[PendingUpload]) -> list[SimpleUploadedFile]:
    """Pending uploads as the file objects create_ticket takes (it re-checks them)."""
    files = []
    for upload in uploads:
        with upload.file.open("rb") as handle:
            files.append(SimpleUploadedFile(upload.filename, handle.read(), upload.content_type))
    return files


def discard_uploads(uploads: list[PendingUpload]) -> None:
    """Delete the rows now and the files once the surrounding transaction has committed."""
    if not uploads:
        return
    names = [upload.file.name for upload in uploads if upload.file.name]
    storage = uploads[0].file.storage
    PendingUpload.objects.filter(pk__in=[upload.pk for upload in uploads]).delete()
    transaction.on_commit(lambda: _delete_files(storage, names))


def purge_pending_uploads() -> int:
    """Delete pending uploads older than TESSERA_PENDING_UPLOAD_HOURS; returns how many."""
    cutoff = clock.now() - timedelta(hours=settings.TESSERA_PENDING_UPLOAD_HOURS)
    stale = list(PendingUpload.objects.filter(created_at__lt=cutoff)[:1000])
    with transaction.atomic():
        discard_uploads(stale)
    return len(stale)


def _delete_files(storage: object, names: list[str]) -> None:
    for name in names:
        try:
            storage.delete(name)  # type: ignore[attr-defined]
        except OSError:  # already gone: the purge is idempotent
            logger.warning("could not delete pending upload %s", name)
