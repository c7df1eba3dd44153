"""The common shape of Tessera's websocket consumers: join one channel-layer group for pushes, re-check
the database on a timer as well, because a push may never arrive (see tessera.core.live), and re-check
access before every message sent, because who may see what changes while a socket stays open."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from tessera.core.live import consumer_connected

REVOKED = 4404  # the close code when the person may no longer receive what the socket carries


class WatchingConsumer(AsyncJsonWebsocketConsumer):
    group: str = ""
    watcher: asyncio.Task[None] | None = None
    revoked: bool = False

    async def join(self, group: str) -> None:
        """Accept the connection, listen to `group` and start the timer (call once checks passed)."""
        self.group = group
        if self.channel_layer is not None:
            await self.channel_layer.group_add(group, self.channel_name)
            consumer_connected()
        await self.accept()
        self.watcher = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None and self.watcher is not asyncio.current_task():
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watcher
        await self._leave()

    async def may_receive(self) -> bool:
        """Whether the person behind the socket may still receive what it carries, asked afresh from
        the database (the app's access rules; the connection's user may be stale). Every message sent
        goes through push(), or follows its own call of this in the same check."""
        raise NotImplementedError

    async def push(self, content: dict[str, Any]) -> None:
        """Send `content` if access still allows it; otherwise stop listening and close the socket."""
        if self.revoked:
            return
        if not await self.may_receive():
            await self.revoke()
            return
        await self.send_json(content)

    async def revoke(self) -> None:
        """Stop listening and close the socket: the person may no longer receive what it carries."""
        self.revoked = True
        await self._leave()
        await self.close(code=REVOKED)

    async def _leave(self) -> None:
        if self.channel_layer is not None and self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = ""

    def watch_seconds(self) -> float:
        raise NotImplementedError

    async def check(self) -> None:
        """Compare the database with what the page was told and push the difference."""
        raise NotImplementedError

    async def _watch(self) -> None:
        while not self.revoked:
            await asyncio.sleep(self.watch_seconds())
            await self.check()
