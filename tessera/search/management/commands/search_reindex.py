"""Rebuild every ticket's search document (after loading or editing tickets outside the services)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tessera.search.services import reindex


class Command(BaseCommand):
    help = "Rebuild the search documents of all tickets."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{reindex()} tickets indexed")
