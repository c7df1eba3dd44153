"""Providers' webhooks through django-anymail (mounted at /mail/anymail/): inbound mail
(/mail/anymail/<esp>/inbound/) and delivery tracking (/mail/anymail/<esp>/tracking/; Mandrill uses one URL,
/mail/anymail/mandrill/, for both). Anymail verifies each provider's signature (Mailgun's HMAC with the
webhook signing key, Mandrill's HMAC with the webhook key) and the shared basic-auth secret before our
receivers see anything."""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailInboundEvent, inbound, tracking

from tessera.mail.inbound.store import store_raw


def on_inbound(sender: object, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    message = event.message
    if message is None:
        return
    raw = message.as_bytes()
    envelope_to = [message.envelope_recipient] if getattr(message, "envelope_recipient", None) else []
    store_raw(
        raw,
        source=f"webhook:{esp_name.lower()}"[:30],
        envelope_from=str(getattr(message, "envelope_sender", "") or ""),
        envelope_to=[str(a) for a in envelope_to],
    )


def connect() -> None:
    from tessera.mail.tracking import on_tracking

    inbound.connect(on_inbound, dispatch_uid="tessera.mail.webhooks")
    tracking.connect(on_tracking, dispatch_uid="tessera.mail.tracking")
