"""Search tasks."""

from __future__ import annotations

from django.tasks import task


@task
def merge_search_index() -> int:
    """Every few seconds (SQLite only): merge the FTS5 index's new segments, in small steps, off the
    request path (see services.merge_index)."""
    from tessera.search.services import merge_index

    return merge_index()
