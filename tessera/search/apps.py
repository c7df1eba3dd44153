from __future__ import annotations

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "tessera.search"
    label = "search"

    def ready(self) -> None:
        from tessera.search.services import on_event_recorded
        from tessera.tickets.events import event_recorded

        event_recorded.connect(on_event_recorded, dispatch_uid="tessera.search.index")
