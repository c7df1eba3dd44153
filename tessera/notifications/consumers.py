"""Websocket for every signed-in page: keeps the notification bell's unread count current."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from tessera.accounts.models import User
from tessera.core.live import consumer_connected
from tessera.notifications import live
from tessera.notifications.services import unread_count


class UnreadCountConsumer(AsyncJsonWebsocketConsumer):
    """ws/notifications/. On connect and whenever the count changes the server sends
    {"type": "unread", "count": n, "html": "<the bell>"}; the page sends nothing."""

    user: User
    last: int | None = None
    watcher: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4403)
            return
        self.user = user
        if self.channel_layer is not None:
            await self.channel_layer.group_add(live.group_name(user.pk), self.channel_name)
            consumer_connected()
        await self.accept()
        await self._check()  # the page may have been rendered a while ago (or reconnects after a gap)
        self.watcher = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watcher
        if self.channel_layer is not None and hasattr(self, "user"):
            await self.channel_layer.group_discard(live.group_name(self.user.pk), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        return  # nothing to hear from the page

    async def notifications_unread(self, message: dict[str, Any]) -> None:
        """Group message pushed after a commit (see live.publish)."""
        await self._tell(int(message["count"]))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(live.watch_seconds())
            await self._check()

    async def _check(self) -> None:
        count = await database_sync_to_async(self._read)()
        await self._tell(count)

    def _read(self) -> int:
        live.mark_listening(self.user.pk)
        return unread_count(self.user)

    async def _tell(self, count: int) -> None:
        if count == self.last:
            return
        self.last = count
        html = live.bell_html(count, self.user.language)
        await self.send_json({"type": "unread", "count": count, "html": html})
