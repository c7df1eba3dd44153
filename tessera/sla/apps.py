from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "tessera.sla"
    label = "sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        # Imported here: the receiver needs the models, which are only ready now.
        from datetime import timedelta

        from tessera.core import schedule
        from tessera.sla import services
        from tessera.sla.tasks import sweep_sla_due
        from tessera.tickets.events import event_recorded

        event_recorded.connect(services.on_event_recorded, dispatch_uid="tessera.sla.on_event_recorded")
        # Every minute, so a breach or warning is seen within a minute of its instant.
        schedule.register("sla.sweep_due", timedelta(minutes=1), sweep_sla_due)
