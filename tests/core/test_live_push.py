"""core.live.push_after_commit: a push is sent only after commit, and only when it can reach someone."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from tessera.core import live

pytestmark = pytest.mark.django_db(transaction=True)


def _sent(monkeypatch: Any) -> list[tuple[str, dict[str, Any]]]:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(live, "send_now", sent.extend)
    return sent


def test_in_memory_layer_without_local_consumers_pushes_nothing(monkeypatch: Any) -> None:
    # As in a gunicorn worker: the in-memory layer cannot reach the websocket process.
    monkeypatch.setattr(live, "_consumers_here", False)
    sent = _sent(monkeypatch)
    with transaction.atomic():
        live.push_after_commit("ticket.1", {"type": "ticket.changed"})
    assert sent == []


def test_push_waits_for_commit_and_is_dropped_on_rollback(monkeypatch: Any) -> None:
    monkeypatch.setattr(live, "_consumers_here", True)
    sent = _sent(monkeypatch)
    with transaction.atomic():
        live.push_after_commit("ticket.1", {"type": "ticket.changed"})
        assert sent == []
    assert sent == [("ticket.1", {"type": "ticket.changed"})]

    with pytest.raises(RuntimeError), transaction.atomic():
        live.push_after_commit("ticket.2", {"type": "ticket.changed"})
        raise RuntimeError
    assert sent == [("ticket.1", {"type": "ticket.changed"})]
