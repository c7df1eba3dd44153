"""manage import_services FILE --as admin@example.com: the admin page's CSV import from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tessera.accounts.models import User
from tessera.catalog.services import ImportFailed, import_services_csv
from tessera.core.errors import DomainError


class Command(BaseCommand):
    help = "Import customer services from a CSV file; a file with any bad row imports nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as", dest="actor", required=True, help="Email of the admin or agent importing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = User.objects.filter(email=options["actor"].lower()).first()
        if actor is None:
            raise CommandError(f"No user {options['actor']}.")
        try:
            data = options["file"].read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from None
        try:
            result = import_services_csv(actor=actor, data=data)
        except ImportFailed as failure:
            for error in failure.errors:
                self.stderr.write(f"line {error.row}, {error.field}: {error.message}")
            raise CommandError(f"{len(failure.errors)} errors; nothing was imported.") from None
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"Imported {result.created} new services, updated {result.updated}.")
