"""One search document per ticket, written by tessera.search.services and read by its queries.

`public` is what anyone who sees the ticket may match (subject, description, incident details, public
replies); `everything` adds the internal notes, for agents. The database indexes them its own way:
PostgreSQL stores tsvectors with GIN indexes (migration 0006), SQLite stores the text and an FTS5 table
over it, kept by the FTS5 triggers of the same migration.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.search import SearchVectorExact
from django.db import models

from tessera.tickets.models import Ticket


class DocumentField(models.TextField):  # type: ignore[type-arg]
    """A tsvector on PostgreSQL, plain text (indexed by FTS5) on SQLite."""

    def db_type(self, connection: Any) -> str | None:
        return "tsvector" if connection.vendor == "postgresql" else super().db_type(connection)


class Matches(SearchVectorExact):
    """PostgreSQL: `document @@ query` (Django's own full-text lookup, under a name of its own)."""

    lookup_name = "matches"


DocumentField.register_lookup(Matches)


class SearchDocument(models.Model):
    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="search_document"
    )
    public = DocumentField()
    everything = DocumentField()

    def __str__(self) -> str:
        return f"search document of {self.ticket_id}"
