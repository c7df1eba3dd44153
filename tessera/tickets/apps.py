from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tessera.tickets"
    label = "tickets"

    def ready(self) -> None:
        from datetime import timedelta

        from tessera.core import schedule
        from tessera.tickets.tasks import recount_agent_loads

        # Counts are kept in step by the services; the recount only repairs drift from outside edits.
        schedule.register("tickets.recount_agent_loads", timedelta(hours=1), recount_agent_loads)
