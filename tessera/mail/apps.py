"""Email channel: inbound (SMTP/LMTP, IMAP, pipe, webhooks) and outbound notifications."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "tessera.mail"
    label = "mail"
    verbose_name = _("Email")

    def ready(self) -> None:
        from datetime import timedelta

        from tessera.core import schedule
        from tessera.mail import checks, notify, webhooks  # noqa: F401 - checks registers the system checks
        from tessera.mail.tasks import fetch_mailboxes, sweep_mail
        from tessera.tickets.events import event_recorded

        event_recorded.connect(notify.on_event_recorded, dispatch_uid="tessera.mail.notify")
        webhooks.connect()
        schedule.register("mail.sweep", timedelta(minutes=1), sweep_mail)
        schedule.register("mail.fetch", timedelta(minutes=1), fetch_mailboxes)
