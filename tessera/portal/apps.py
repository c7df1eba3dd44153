"""The customer client area."""

from __future__ import annotations

from datetime import timedelta

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tessera.portal"
    label = "portal"

    def ready(self) -> None:
        from tessera.core import schedule
        from tessera.portal.tasks import purge_pending_uploads

        schedule.register("portal.purge_pending_uploads", timedelta(hours=1), purge_pending_uploads)
