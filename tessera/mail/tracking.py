"""Delivery reports from providers' tracking webhooks (anymail's `tracking` signal; anymail has verified the
provider's signature before we see an event).

Each event is kept as a `DeliveryEvent`. When its message id is one of ours, the email's delivery status
and reason are updated (newest event wins), and a hard bounce or a spam complaint marks the address
undeliverable: nothing more is sent to it, and the contact's notification addresses show it. An event for a
message id we do not know is kept for admins and otherwise ignored.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.db.models import Q
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.mail.models import BouncingAddress, DeliveryEvent, DeliveryStatus, OutboundEmail
from tessera.mail.outbound import mark_bouncing
from tessera.notifications.models import NotificationAddress
from tessera.tickets.events import record_event
from tessera.tickets.models import Channel, Ticket, TimelineEvent

logger = logging.getLogger("tessera.mail.tracking")

STATUS_BY_EVENT = {
    EventType.DELIVERED: DeliveryStatus.DELIVERED,
    EventType.DEFERRED: DeliveryStatus.DEFERRED,
    EventType.BOUNCED: DeliveryStatus.BOUNCED,
    EventType.REJECTED: DeliveryStatus.REJECTED,
    EventType.COMPLAINED: DeliveryStatus.COMPLAINED,
}
# anymail reports Mandrill's soft bounces as "bounced"; they are temporary, like a deferral.
SOFT_BOUNCES = {("mandrill", "soft_bounce")}
# A provider that refuses to send because the address bounced before, or is not an address at all.
UNDELIVERABLE_REJECTS = {RejectReason.BOUNCED, RejectReason.INVALID, RejectReason.SPAM}


def record(event: AnymailTrackingEvent, esp_name: str) -> DeliveryEvent | None:
    """Keep one tracking event and act on it; returns None for a repeat of an event already kept."""
    esp = esp_name.lower()[:30]
    raw = event.esp_event if isinstance(event.esp_event, dict) else {}
    event_id = str(event.event_id or "")[:200]
    if event_id and DeliveryEvent.objects.filter(esp=esp, event_id=event_id).exists():
        return None  # the provider delivered the same webhook again
    event_type = str(event.event_type)
    if event_type == EventType.BOUNCED and (esp, raw.get("event")) in SOFT_BOUNCES:
        event_type = EventType.DEFERRED
    recipient = str(event.recipient or "").strip()
    message_id = str(event.message_id or "").strip()
    reason = _reason(event)
    outbound = find_email(message_id, recipient)
    row = DeliveryEvent.objects.create(
        esp=esp,
        event_type=event_type[:20],
        event_id=event_id,
        message_id=message_id[:255],
        recipient=recipient[:320],
        reason=reason,
        occurred_at=event.timestamp,
        received_at=clock.now(),
        outbound=outbound,
        payload=json.loads(json.dumps(raw, default=str)),
    )
    if outbound is None:
        logger.info("%s %s event for unknown message id %r ignored", esp, event_type, message_id)
        return row
    status = STATUS_BY_EVENT.get(event_type)
    if status is not None:
        _set_status(outbound, status, reason, event.timestamp or row.received_at)
    if event_type in (EventType.BOUNCED, EventType.COMPLAINED) or (
        event_type == EventType.REJECTED and event.reject_reason in UNDELIVERABLE_REJECTS
    ):
        text = f"{esp} {event_type}: {reason}".strip(" :")
        mark_undeliverable(recipient or outbound.to, text)
        if event_type != EventType.COMPLAINED:
            record_bounce(outbound, recipient or outbound.to, text)
    return row


def find_email(message_id: str, recipient: str) -> OutboundEmail | None:
    """Our email a provider's message id refers to: the id the provider gave when it accepted it, or our
    own Message-ID (providers quote it with or without angle brackets)."""
    bare = message_id.strip("<>")
    if not bare:
        return None
    candidates = {bare, f"<{bare}>"}
    found = OutboundEmail.objects.filter(Q(esp_message_id__in=candidates) | Q(message_id__in=candidates))
    if recipient:
        found = found.filter(to__iexact=recipient)
    return found.order_by("-pk").first()


def _reason(event: AnymailTrackingEvent) -> str:
    parts = [str(event.reject_reason or ""), str(event.description or ""), str(event.mta_response or "")]
    return " · ".join(dict.fromkeys(p.strip() for p in parts if p and p.strip()))[:2000]


def _set_status(email: OutboundEmail, status: str, reason: str, at: datetime) -> None:
    # Providers may deliver events out of order: an older event never overwrites a newer one.
    OutboundEmail.objects.filter(pk=email.pk).filter(
        Q(delivery_updated_at__isnull=True) | Q(delivery_updated_at__lte=at)
    ).update(delivery_status=status, delivery_reason=reason, delivery_updated_at=at)


def record_bounce(email: OutboundEmail, address: str, reason: str) -> None:
    """Agents see on the ticket that the customer did not get our email (a failure report or a provider's
    bounce), so they can phone instead."""
    if email.ticket_id is None:
        return
    ticket = Ticket.objects.select_related("department", "requester").get(pk=email.ticket_id)
    record_event(
        ticket=ticket,
        actor=None,
        channel=Channel.EMAIL,
        kind=TimelineEvent.Kind.EMAIL_BOUNCED,
        reason=_(
            "Our email “%(subject)s” to %(address)s bounced (%(reason)s). Nothing more is sent to this "
            "address until it writes to us again: reach the customer another way."
        )
        % {"subject": email.subject, "address": address, "reason": reason},
        new={"address": address, "email": email.pk},
        is_public=False,
    )


def mark_undeliverable(address: str, reason: str) -> None:
    """Stop mailing the address and flag the notification addresses that use it, so admins and agents see
    why the contact hears nothing."""
    mark_bouncing(address, reason)
    NotificationAddress.objects.filter(email__iexact=address.strip()).update(
        undeliverable_at=clock.now(), undeliverable_reason=reason[:2000]
    )


def delivery_problems(user: User) -> list[tuple[str, str]]:
    """(address, reason) for each of the contact's addresses (account and chosen ones) that bounces, so an
    agent knows why the customer may not be hearing from us."""
    addresses = {user.email.strip().lower()} | {
        email.strip().lower()
        for email in NotificationAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    return list(
        BouncingAddress.objects.filter(email__in=sorted(addresses))
        .order_by("email")
        .values_list("email", "reason")
    )


def clear_undeliverable(address: str) -> None:
    """The address wrote to us, so it works again."""
    NotificationAddress.objects.filter(email__iexact=address.strip()).exclude(undeliverable_at=None).update(
        undeliverable_at=None, undeliverable_reason=""
    )


def on_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    record(event, esp_name)
