"""Websocket for an open ticket page: tells the agent when someone else changes the ticket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from tessera.accounts.models import User
from tessera.core.errors import NotFound
from tessera.core.live import consumer_connected
from tessera.tickets.queries import get_ticket_for
from tessera.workspace import live


class TicketWatchConsumer(AsyncJsonWebsocketConsumer):
    """ws/agent/tickets/<id>/. The page sends {"seen": <last event id it shows>} on open and after each
    of its own updates; the server sends {"type": "changed", "version", "changes": [...]} when events
    by other people arrive after that."""

    ticket_id: int
    user: User
    seen: int = 0
    watcher: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_agent:
            await self.close(code=4403)
            return
        self.user = user
        self.ticket_id = int(self.scope["url_route"]["kwargs"]["ticket_id"])
        # The page says which events it already shows, so nothing it rendered is announced again.
        query = parse_qs(self.scope.get("query_string", b"").decode())
        seen = query.get("seen", ["0"])[0]
        self.seen = int(seen) if seen.isdigit() else 0
        try:
            await database_sync_to_async(get_ticket_for)(user, self.ticket_id)
        except NotFound:
            await self.close(code=4404)
            return
        if self.channel_layer is not None:
            await self.channel_layer.group_add(live.group_name(self.ticket_id), self.channel_name)
            consumer_connected()
        await self.accept()
        self.watcher = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watcher
        if self.channel_layer is not None and hasattr(self, "ticket_id"):
            await self.channel_layer.group_discard(live.group_name(self.ticket_id), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and isinstance(content.get("seen"), int):
            self.seen = max(0, content["seen"])
            await self._check()

    async def ticket_changed(self, message: dict[str, Any]) -> None:
        """Group message pushed after a change committed (see live._push)."""
        await self._check()

    async def _watch(self) -> None:
        interval = float(getattr(settings, "TESSERA_LIVE_POLL_SECONDS", 3.0))
        while True:
            await asyncio.sleep(interval)
            await self._check()

    async def _check(self) -> None:
        current = await database_sync_to_async(live.snapshot)(self.ticket_id)
        if current is None:
            await self.close(code=4404)
            return
        if current.last_event_id <= self.seen:
            return
        changes = await database_sync_to_async(live.changes_since)(self.user, self.ticket_id, self.seen)
        self.seen = current.last_event_id
        if changes:  # the agent's own changes reach their page through their own request
            await self.send_json({"type": "changed", "version": current.version, "changes": changes})
