"""The common shape of Tessera's websocket consumers: join one channel-layer group for pushes, and
re-check the database on a timer as well, because a push may never arrive (see tessera.core.live)."""

from __future__ import annotations

import asyncio
import contextlib

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from tessera.core.live import consumer_connected


class WatchingConsumer(AsyncJsonWebsocketConsumer):
    group: str = ""
    watcher: asyncio.Task[None] | None = None

    async def join(self, group: str) -> None:
        """Accept the connection, listen to `group` and start the timer (call once checks passed)."""
        self.group = group
        if self.channel_layer is not None:
            await self.channel_layer.group_add(group, self.channel_name)
            consumer_connected()
        await self.accept()
        self.watcher = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watcher
        if self.channel_layer is not None and self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    def watch_seconds(self) -> float:
        raise NotImplementedError

    async def check(self) -> None:
        """Compare the database with what the page was told and send the difference."""
        raise NotImplementedError

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.watch_seconds())
            await self.check()
