"""The customer client area."""

from __future__ import annotations

from datetime import timedelta

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tessera.portal"
    label = "portal"

    def ready(self) -> None:
        from allauth.account.signals import password_reset

        from tessera.core import schedule
        from tessera.portal.adapters import verify_address_on_password_reset
        from tessera.portal.tasks import purge_pending_uploads

        password_reset.connect(
            verify_address_on_password_reset, dispatch_uid="tessera.portal.verify_on_reset"
        )

        schedule.register("portal.purge_pending_uploads", timedelta(hours=1), purge_pending_uploads)
