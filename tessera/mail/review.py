"""The review queue: mail held back (unauthenticated, a storm, an agent outside the ticket's department)
and what a reviewer may do with it. Every decision is recorded in the mail security log with who made it.

- Release as the claimed sender (admins): processed again as if authenticated; it may then join the
  sender's tickets as their mail. The ticket shows who vouched for it.
- Release as a new unverified contact: processed again as a new ticket only, never a reply on an existing
  one; the ticket records that the sender was not authenticated.
- Attach to a ticket: an internal note on a ticket the reviewer works on, quoting the message and its
  files; the ticket's participants do not change.
- Reject: nothing is created and nobody is mailed (a reply to a forged address would be backscatter).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.core.errors import NotFound, PermissionDenied, ValidationFailed
from tessera.mail import security
from tessera.mail.inbound.parse import MailUnreadable, parse
from tessera.mail.inbound.store import read_raw
from tessera.mail.models import InboundMessage, SecurityEvent
from tessera.tickets import access, queries
from tessera.tickets.models import Channel, Message
from tessera.tickets.services import BODY_MAX, add_note

Status = InboundMessage.Status
Release = InboundMessage.Release
Kind = SecurityEvent.Kind
# The largest raw message the review page shows inline (the rest is downloadable as the original).
SHOWN_BYTES = 200_000


def held_for(user: User) -> QuerySet[InboundMessage]:
    """The review queue `user` may see, oldest first (first in, first reviewed)."""
    return access.held_mail(user).select_related("department").order_by("received_at", "id")


def get_held(user: User, pk: int) -> InboundMessage:
    row = access.held_mail(user).select_related("department").filter(pk=pk).first()
    if row is None:
        raise NotFound(_("This message is not waiting for review (someone may have reviewed it)."))
    return row


@dataclass(frozen=True)
class Shown:
    """What the review page shows of a held message: plain text only, escaped by the template."""

    raw: str
    truncated: bool


def shown_raw(row: InboundMessage) -> Shown:
    try:
        data = read_raw(row)
    except OSError:
        return Shown(_("(The stored message file cannot be read.)"), False)
    return Shown(data[:SHOWN_BYTES].decode("utf-8", "replace"), len(data) > SHOWN_BYTES)


def _lock(user: User, pk: int) -> InboundMessage:
    """The held row, locked, re-checked: two reviewers never both act on one message."""
    row = InboundMessage.objects.select_for_update().filter(pk=pk).first()
    if row is None or not access.can_review_mail(user, row):
        raise NotFound(_("This message is not waiting for review (someone may have reviewed it)."))
    return row


def release(*, actor: User, pk: int, how: str) -> InboundMessage:
    """Let a held message through, as the claimed sender or as a new unverified contact; it is processed
    at once, and the row tells how that went."""
    if how not in Release.values:
        raise ValidationFailed(_("Choose how to release the message."), field="how")
    with transaction.atomic():
        row = _lock(actor, pk)
        if how == Release.SENDER and not access.can_release_as_sender(actor, row):
            raise PermissionDenied(_("Only an administrator can vouch for a sender's identity."))
        row.status = Status.PENDING
        row.release = how
        row.reviewed_by = actor
        row.reviewed_at = clock.now()
        row.enqueued_at = row.reviewed_at
        row.save(update_fields=["status", "release", "reviewed_by", "reviewed_at", "enqueued_at"])
        kind = Kind.RELEASED_SENDER if how == Release.SENDER else Kind.RELEASED_CONTACT
        security.record(kind, sender=row.sender, detail=row.error, inbound=row, actor=actor)
    from tessera.mail.inbound.pipeline import process

    # Its own transaction: should processing fail, the row says why and can be retried; a crash before
    # this line leaves it pending, and the sweep picks it up.
    process(row.pk)
    row.refresh_from_db()
    return row


def attach(*, actor: User, pk: int, ticket_id: int) -> Message:
    """An internal note on the chosen ticket with the held message's text and files."""
    ticket = queries.get_ticket_for(actor, ticket_id)
    if not access.can_work_on(actor, ticket):
        raise PermissionDenied(_("Only agents of the ticket's department can do this."))
    with transaction.atomic():
        row = _lock(actor, pk)
        try:
            mail = parse(read_raw(row))
        except (OSError, MailUnreadable) as error:
            raise ValidationFailed(
                _("The message cannot be read, so it cannot be attached: %(error)s") % {"error": error},
                field="ticket",
            ) from error
        header = _("Email from %(sender)s, held for review (%(reason)s), attached by %(agent)s:") % {
            "sender": row.sender or row.envelope_from,
            "reason": row.error,
            "agent": actor.display_name,
        }
        body = f"{header}\n\n{mail.subject}\n\n{mail.text.strip()}"[:BODY_MAX]
        # The pipeline's file rules (the agent attaches, so no sender's quota); each refused file is noted.
        from tessera.mail.inbound.pipeline import check_attachments

        content = check_attachments(mail.parts, None)
        row.notes = list(content.dropped)
        note = add_note(
            actor=actor, ticket=ticket, body=body, channel=Channel.EMAIL, files=list(content.files)
        )
        row.status = Status.PROCESSED
        row.ticket = ticket
        row.ticket_message = note
        row.reviewed_by = actor
        row.reviewed_at = clock.now()
        row.processed_at = row.reviewed_at
        row.save(
            update_fields=[
                "status",
                "ticket",
                "ticket_message",
                "reviewed_by",
                "reviewed_at",
                "processed_at",
                "notes",
            ]
        )
        security.record(
            Kind.ATTACHED, sender=row.sender, detail=row.error, inbound=row, ticket=ticket, actor=actor
        )
    return note


def reject(*, actor: User, pk: int) -> InboundMessage:
    with transaction.atomic():
        row = _lock(actor, pk)
        row.status = Status.REJECTED
        row.reviewed_by = actor
        row.reviewed_at = clock.now()
        row.save(update_fields=["status", "reviewed_by", "reviewed_at"])
        security.record(Kind.REJECTED, sender=row.sender, detail=row.error, inbound=row, actor=actor)
    return row
