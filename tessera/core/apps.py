from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tessera.core"
    label = "core"

    def ready(self) -> None:
        from tessera.core import checks  # noqa: F401 - registers the system checks
