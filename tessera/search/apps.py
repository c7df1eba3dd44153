from __future__ import annotations

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "tessera.search"
    label = "search"

    def ready(self) -> None:
        from datetime import timedelta

        from django.db import connection

        from tessera.core import schedule
        from tessera.search.services import on_event_recorded
        from tessera.search.tasks import merge_search_index
        from tessera.tickets.events import event_recorded

        event_recorded.connect(on_event_recorded, dispatch_uid="tessera.search.index")
        if connection.vendor == "sqlite":  # FTS5 leaves its merging to us (migration 0007)
            schedule.register("search.merge", timedelta(seconds=10), merge_search_index)
