"""Service status page: components, incidents, planned maintenance."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StatusConfig(AppConfig):
    name = "tessera.status"
    label = "status"
    verbose_name = _("Service status")

    def ready(self) -> None:
        from datetime import timedelta

        from tessera.core import schedule
        from tessera.status.tasks import sweep_maintenance

        # Every minute: windows start and end within a minute of their announced times.
        schedule.register("status.sweep_maintenance", timedelta(minutes=1), sweep_maintenance)
