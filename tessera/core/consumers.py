"""The common shape of Tessera's websocket consumers: join one channel-layer group for pushes, re-check
the database on a timer as well, because a push may never arrive (see tessera.core.live), and re-check
access before every message sent, because who may see what changes while a socket stays open.

A socket also lives only as long as the sign-in that opened it: it listens to its user's session group
(tessera.accounts.live) and checks its session on every timer tick and at the session's expiry."""

from __future__ import annotations

import asyncio
import contextlib
from importlib import import_module
from typing import Any

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from tessera.core.live import consumer_connected

REVOKED = 4404  # the close code when the person may no longer receive what the socket carries
SIGNED_OUT = 4403  # the close code when the sign-in ended (the pages stop reconnecting on it)


class WatchingConsumer(AsyncJsonWebsocketConsumer):
    group: str = ""
    session_group: str = ""
    watcher: asyncio.Task[None] | None = None
    revoked: bool = False
    session_ends: float | None = None  # the session's expiry (a timestamp), when the engine stores one

    async def join(self, group: str) -> None:
        """Accept the connection, listen to `group` and to the user's session group, and start the timer
        (call once checks passed)."""
        from tessera.accounts.live import group_name

        self.group = group
        self.session_group = group_name(self.scope["user"].pk)
        if self.channel_layer is not None:
            await self.channel_layer.group_add(group, self.channel_name)
            await self.channel_layer.group_add(self.session_group, self.channel_name)
            consumer_connected()
        await self.accept()
        self.session_ends = await database_sync_to_async(self._session_expiry)()
        self.watcher = asyncio.create_task(self._watch())

    async def session_check(self, message: dict[str, Any]) -> None:
        """Group message from tessera.accounts.live: a sign-in of this user may have ended."""
        ended = message.get("ended")
        if ended is not None and ended == self.scope["session"].session_key:
            await self.sign_out()
        else:
            await self.check_session()

    async def check_session(self) -> bool:
        """Whether the session that opened the socket still signs its user in, read afresh from the
        database (present, unexpired, same password hash, account active); closes the socket if not."""
        if self.revoked:
            return False
        fresh = _session_store(self.scope["session"].session_key)
        user = await get_user({"session": fresh})
        if not user.is_authenticated or user.pk != self.scope["user"].pk:
            await self.sign_out()
            return False
        self.session_ends = await database_sync_to_async(self._session_expiry)()
        return True

    async def sign_out(self) -> None:
        self.revoked = True
        await self._leave()
        await self.close(code=SIGNED_OUT)

    def _session_expiry(self) -> float | None:
        store = _session_store(self.scope["session"].session_key)
        if not hasattr(store, "get_model_class"):
            return None  # a session engine without rows: the timer's check covers expiry
        expires = (
            store.get_model_class()
            .objects.filter(session_key=store.session_key)
            .values_list("expire_date", flat=True)
            .first()
        )
        return expires.timestamp() if expires is not None else None

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
        if self.channel_layer is not None:
            for group in (self.group, self.session_group):
                if group:
                    await self.channel_layer.group_discard(group, self.channel_name)
        self.group = self.session_group = ""

    def watch_seconds(self) -> float:
        raise NotImplementedError

    async def check(self) -> None:
        """Compare the database with what the page was told and push the difference."""
        raise NotImplementedError

    async def _watch(self) -> None:
        while not self.revoked:
            wait = self.watch_seconds()
            if self.session_ends is not None:  # wake when the session expires, not a tick later
                wait = min(wait, max(0.1, self.session_ends - timezone.now().timestamp()))
            await asyncio.sleep(wait)
            if await self.check_session():
                await self.check()


def _session_store(session_key: str | None) -> Any:
    """A fresh store for the key: the scope's own caches what it read when the socket opened."""
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key)
