from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tessera.conf import BASE_DIR, configuration_markdown


class Command(BaseCommand):
    help = "Write docs/configuration.md from the list of environment variables."

    def handle(self, *args: Any, **options: Any) -> None:
        (BASE_DIR / "docs" / "configuration.md").write_text(configuration_markdown(), encoding="utf-8")
        self.stdout.write("docs/configuration.md written.")
