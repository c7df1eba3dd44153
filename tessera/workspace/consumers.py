"""Websocket for an open ticket page: tells the agent when someone else changes the ticket."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from tessera.accounts.models import User
from tessera.core.consumers import WatchingConsumer
from tessera.core.errors import NotFound
from tessera.core.ids import parse_id
from tessera.core.live import live_poll_seconds
from tessera.tickets.queries import get_ticket_for
from tessera.workspace import live


class TicketWatchConsumer(WatchingConsumer):
    """ws/agent/tickets/<id>/. The page sends {"seen": <last event id it shows>} on open and after each
    of its own updates; the server sends {"type": "changed", "version", "changes": [...]} when events
    by other people arrive after that."""

    ticket_id: int
    user: User
    seen: int = 0

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
        self.seen = parse_id(seen, minimum=0) or 0
        try:
            await database_sync_to_async(get_ticket_for)(user, self.ticket_id)
        except NotFound:
            await self.close(code=4404)
            return
        await self.join(live.group_name(self.ticket_id))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and isinstance(content.get("seen"), int):
            self.seen = max(0, content["seen"])
            await self.check()

    async def ticket_changed(self, message: dict[str, Any]) -> None:
        """Group message pushed after a change committed (see tessera.core.live)."""
        await self.check()

    def watch_seconds(self) -> float:
        return live_poll_seconds()

    async def check(self) -> None:
        if self.revoked:
            return
        current = await database_sync_to_async(live.snapshot)(self.ticket_id)
        if current is None:
            await self.close(code=4404)
            return
        if current.last_event_id <= self.seen:
            return
        # Access is re-checked before the news is even read: the agent may have left the department, or
        # the ticket moved out of theirs, since the socket opened.
        if not await self.may_receive():
            await self.revoke()
            return
        changes = await database_sync_to_async(live.changes_since)(self.user, self.ticket_id, self.seen)
        self.seen = current.last_event_id
        if changes:  # the agent's own changes reach their page through their own request
            await self.send_json({"type": "changed", "version": current.version, "changes": changes})

    async def may_receive(self) -> bool:
        allowed: bool = await database_sync_to_async(live.may_watch)(self.user.pk, self.ticket_id)
        return allowed
