"""Websocket for every signed-in page: keeps the notification bell's unread count current."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from tessera.accounts.models import User
from tessera.core.consumers import WatchingConsumer
from tessera.notifications import live
from tessera.notifications.services import unread_count


class UnreadCountConsumer(WatchingConsumer):
    """ws/notifications/. On connect and whenever the count changes the server sends
    {"type": "unread", "count": n, "html": "<the bell>"}; the page sends nothing."""

    user: User
    last: int | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4403)
            return
        self.user = user
        await self.join(live.group_name(user.pk))
        await self.check()  # the page may have been rendered a while ago (or reconnects after a gap)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        return  # nothing to hear from the page

    async def notifications_unread(self, message: dict[str, Any]) -> None:
        """Group message pushed after a commit (see live.publish): the count is read here, through the
        access rules, so notifications about tickets the user can no longer see are not counted."""
        await self.check()

    def watch_seconds(self) -> float:
        return live.watch_seconds()

    async def check(self) -> None:
        if self.revoked:
            return
        count = await database_sync_to_async(self._read)()
        if count is None:
            await self.revoke()
            return
        await self._tell(count)

    async def may_receive(self) -> bool:
        return await database_sync_to_async(self._fresh_user)() is not None

    def _fresh_user(self) -> User | None:
        """The socket's user as the database has them now; None once deactivated or deleted."""
        return User.objects.filter(pk=self.user.pk, is_active=True).first()

    def _read(self) -> int | None:
        user = self._fresh_user()
        if user is None:
            return None
        live.mark_listening(user.pk)
        return unread_count(user)

    async def _tell(self, count: int) -> None:
        if count == self.last:
            return
        self.last = count
        html = live.bell_html(count, self.user.language)
        await self.push({"type": "unread", "count": count, "html": html})
