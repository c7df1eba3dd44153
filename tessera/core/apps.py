from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tessera.core"
    label = "core"

    def ready(self) -> None:
        from datetime import timedelta

        from tessera.core import (
            checks,  # noqa: F401 - registers the system checks
            schedule,
        )
        from tessera.core.tasks import prune_finished_tasks

        schedule.register("core.prune_finished_tasks", timedelta(hours=6), prune_finished_tasks)
