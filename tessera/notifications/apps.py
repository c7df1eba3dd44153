from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "tessera.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Imported here: the receiver needs the models, which are only ready now.
        from tessera.notifications.ticket_events import on_event_recorded
        from tessera.tickets.events import event_recorded

        event_recorded.connect(on_event_recorded, dispatch_uid="tessera.notifications.on_event_recorded")
