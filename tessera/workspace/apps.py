"""Agent workspace: queues, ticket view, phone calls, bulk actions."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkspaceConfig(AppConfig):
    name = "tessera.workspace"
    label = "workspace"
    verbose_name = _("Agent workspace")

    def ready(self) -> None:
        from tessera.tickets.events import event_recorded
        from tessera.workspace import live

        event_recorded.connect(live.on_event_recorded, dispatch_uid="tessera.workspace.live")
