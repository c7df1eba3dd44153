"""Raw first: every inbound path hands the original bytes to `store_raw`, which saves them (content-
addressed) with an `InboundMessage` row and enqueues processing in the same transaction. Once it returns,
the message is safe: a crash later only delays processing, and a re-delivery is recognised."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tessera.core import clock
from tessera.mail.inbound.parse import summary
from tessera.mail.models import InboundMessage, Mailbox, raw_path

logger = logging.getLogger("tessera.mail.inbound")
STALE_PENDING = timedelta(minutes=2)


class MessageRefused(Exception):
    """The message cannot be accepted at all (empty, too large); the sender's server should bounce it."""

    def __init__(self, reason: str, *, smtp_code: int = 554) -> None:
        super().__init__(reason)
        self.reason = reason
        self.smtp_code = smtp_code


def store_raw(
    raw: bytes,
    *,
    source: str,
    envelope_from: str = "",
    envelope_to: list[str] | None = None,
    mailbox: Mailbox | None = None,
) -> tuple[InboundMessage, bool]:
    """Store one message and enqueue its processing; returns (row, created). A re-delivery of a message
    already stored (the same content: headers that say what it is and its body, whatever trace headers
    relays added) returns the first row, created=False. A different message that reuses a Message-ID
    (some clients do) is stored as its own message."""
    if not raw.strip():
        raise MessageRefused(_("The message is empty."), smtp_code=554)
    limit = settings.TESSERA_MAIL_MAX_BYTES
    if len(raw) > limit:
        raise MessageRefused(
            _("The message is too large: at most %(mb)d MB.") % {"mb": limit // (1024 * 1024)},
            smtp_code=552,
        )
    sha = hashlib.sha256(raw).hexdigest()
    message_id, sender, subject, content = summary(raw)
    key = "content:" + content
    now = clock.now()
    row = InboundMessage(
        dedupe_key=key,
        message_id=message_id,
        sha256=sha,
        size=len(raw),
        source=source[:30],
        mailbox=mailbox,
        envelope_from=envelope_from[:320],
        envelope_to=[address[:320] for address in (envelope_to or [])][:100],
        sender=sender,
        subject=subject,
        received_at=now,
        enqueued_at=now,
    )
    row.raw.name = raw_path(row, "")
    from tessera.mail.tasks import process_inbound

    with transaction.atomic():
        # The INSERT comes first, so a re-delivery (same key: the key is a function of the bytes) is
        # refused by the unique index before anything is written; the file is written before the
        # COMMIT, so a crash leaves at most an orphan file, never a row without its bytes.
        try:
            with transaction.atomic():  # a savepoint: the refused INSERT leaves the transaction usable
                row.save(force_insert=True)
        except IntegrityError:
            existing = InboundMessage.objects.filter(dedupe_key=key).first()
            if existing is None:  # another constraint, or deleted since: the sender's retry will store it
                raise
            return existing, False
        _write_raw(row, raw)
        process_inbound.enqueue(row.pk)
    return row, True


def _write_raw(row: InboundMessage, raw: bytes) -> None:
    """Identical bytes share one file (content-addressed name)."""
    storage, name = row.raw.storage, raw_path(row, "")
    if storage.exists(name):
        return
    stored = storage.save(name, ContentFile(raw))
    if stored != name:  # the storage picked another name (a concurrent writer): keep it
        row.raw.name = stored
        row.save(update_fields=["raw"])


def read_raw(row: InboundMessage) -> bytes:
    with row.raw.open("rb") as handle:
        data: bytes = handle.read()
    return data


def sweep_inbound(now: datetime | None = None) -> int:
    """Re-enqueue pending messages whose processing task was lost (worker killed); returns how many."""
    now = now or clock.now()
    from tessera.mail.tasks import process_inbound

    with transaction.atomic():
        pks = list(
            InboundMessage.objects.filter(
                status=InboundMessage.Status.PENDING, enqueued_at__lt=now - STALE_PENDING
            ).values_list("pk", flat=True)[:1000]
        )
        if pks:
            InboundMessage.objects.filter(pk__in=pks).update(enqueued_at=now)
            for pk in pks:
                process_inbound.enqueue(pk)
    return len(pks)
