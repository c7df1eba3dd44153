"""The unread-count websocket, driven through the real ASGI application (session cookie, auth middleware,
routing, channel layer) with a communicator, and the pushes the services make after commit."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.test import Client

from tessera.accounts.models import User
from tessera.notifications import live, services
from tessera.notifications.models import NotificationKind
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


class Socket(ApplicationCommunicator):
    """A browser's websocket to ws/notifications/ (channels.testing needs daphne, so this is by hand)."""

    def __init__(self, session_cookie: str | None) -> None:
        from tessera.asgi import application

        headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
        if session_cookie:
            headers.append((b"cookie", f"sessionid={session_cookie}".encode()))
        scope = {"type": "websocket", "path": "/ws/notifications/", "query_string": b"", "headers": headers}
        super().__init__(application, scope | {"subprotocols": []})

    async def connect(self) -> bool:
        await self.send_input({"type": "websocket.connect"})
        return (await self.receive_output(5))["type"] == "websocket.accept"

    async def next_message(self, timeout: float = 5) -> Any:
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(1)


@database_sync_to_async
def _session(user: User) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


async def _open(user: User) -> Socket:
    """A connected socket whose first message (the count when the page connected) is already read."""
    socket = Socket(await _session(user))
    assert await socket.connect()
    first = await socket.next_message()
    assert first["type"] == "unread"
    return socket


def _note(user: User, key: str) -> Any:
    return services.notify(user, kind=NotificationKind.ANNOUNCEMENT, title=f"Note {key}", dedupe_key=key)


@database_sync_to_async
def _people(*names: str) -> list[User]:
    return [factories.customer(name) for name in names]


def run(test: Callable[..., Awaitable[None]], *args: Any) -> None:
    async_to_sync(test)(*args)


@pytest.fixture
def push_only(settings: Any) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 3600  # the consumer's own re-reading cannot deliver in these tests


def test_anonymous_visitors_are_refused() -> None:
    async def scenario() -> None:
        socket = Socket(None)
        assert not await socket.connect()
        await socket.disconnect()

    run(scenario)


def test_the_count_arrives_after_commit_and_only_to_its_owner(push_only: None) -> None:
    async def scenario() -> None:
        carla, marek = await _people("carla", "marek")
        await database_sync_to_async(_note)(carla, "before")
        mine, theirs = Socket(await _session(carla)), await _open(marek)
        assert await mine.connect()
        assert (await mine.next_message())["count"] == 1  # what the page should show on connect

        await database_sync_to_async(_note)(carla, "new")
        message = await mine.next_message()
        assert message["count"] == 2
        assert 'data-count="2"' in message["html"] and "Notifications: 2 unread" in message["html"]
        assert await theirs.receive_nothing(timeout=0.3)
        await mine.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_a_rolled_back_notification_is_never_announced(push_only: None) -> None:
    def notify_then_fail(user: User) -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            _note(user, "doomed")
            raise RuntimeError

    async def scenario() -> None:
        (carla,) = await _people("carla")
        socket = await _open(carla)
        await database_sync_to_async(notify_then_fail)(carla)
        assert await socket.receive_nothing(timeout=0.3)
        assert await database_sync_to_async(services.unread_count)(carla) == 0
        await socket.disconnect()

    run(scenario)


def test_reading_updates_every_open_page(push_only: None) -> None:
    async def scenario() -> None:
        (carla,) = await _people("carla")
        first = await database_sync_to_async(_note)(carla, "a")
        await database_sync_to_async(_note)(carla, "b")
        tab_one, tab_two = await _open(carla), await _open(carla)

        await database_sync_to_async(services.mark_read)(actor=carla, notification_id=first.pk)
        for tab in (tab_one, tab_two):
            assert (await tab.next_message())["count"] == 1
        await database_sync_to_async(services.mark_read)(actor=carla, notification_id=first.pk)
        assert await tab_one.receive_nothing(timeout=0.3)  # already read: nothing changed, nothing sent

        await database_sync_to_async(services.mark_all_read)(actor=carla)
        message = await tab_one.next_message()
        assert message["count"] == 0 and "notif-count" not in message["html"]
        await tab_one.disconnect()
        await tab_two.disconnect()

    run(scenario)


def test_a_bulk_announcement_sends_one_message_per_listening_recipient(
    push_only: None, monkeypatch: Any
) -> None:
    layer = get_channel_layer()
    groups: list[str] = []
    real_group_send = layer.group_send

    async def spy(group: str, message: dict[str, Any]) -> None:
        if group.startswith("notifications."):
            groups.append(group)
        await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", spy)

    def announce(users: list[User]) -> int:
        with transaction.atomic():  # as the status app's delivery task runs it
            return services.notify_many(
                users,
                kind=NotificationKind.INCIDENT,
                render=lambda user: ("Frankfurt network outage", ""),
                dedupe_key="incident:1",
            )

    async def scenario() -> None:
        customers = await _people(*(f"customer{i}" for i in range(30)))
        listener = customers[7]
        socket = await _open(listener)
        assert await database_sync_to_async(announce)(customers) == 30
        message = await socket.next_message()
        assert message["count"] == 1
        assert await socket.receive_nothing(timeout=0.3)
        # 30 recipients, one page open: one group send, to that recipient only.
        assert groups == [live.group_name(listener.pk)]
        await socket.disconnect()

    run(scenario)


def test_nobody_listening_costs_no_channel_layer_traffic(monkeypatch: Any) -> None:
    layer = get_channel_layer()
    sent: list[str] = []

    async def spy(group: str, message: dict[str, Any]) -> None:
        sent.append(group)

    monkeypatch.setattr(layer, "group_send", spy)
    carla = factories.customer("carla")
    _note(carla, "a")
    services.notify_many(
        [factories.customer(f"c{i}") for i in range(5)],
        kind=NotificationKind.MAINTENANCE,
        render=lambda user: ("Planned maintenance", ""),
        dedupe_key="maintenance:1",
    )
    assert sent == []


def test_without_a_cross_process_layer_the_consumer_notices_by_itself(
    settings: Any, monkeypatch: Any
) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 0.05
    # As under gunicorn + a separate websocket process with the in-memory layer: no push arrives.
    monkeypatch.setattr(live, "publish", lambda user_ids: None)

    async def scenario() -> None:
        (carla,) = await _people("carla")
        socket = await _open(carla)
        await database_sync_to_async(_note)(carla, "a")
        assert (await socket.next_message())["count"] == 1
        assert await socket.receive_nothing(timeout=0.3)  # told once, though it re-reads all the time
        await socket.disconnect()

    run(scenario)


def test_the_bell_is_sent_in_the_users_language(push_only: None) -> None:
    async def scenario() -> None:
        carla = await database_sync_to_async(factories.customer)("carla", language="it")
        await database_sync_to_async(_note)(carla, "a")
        socket = Socket(await _session(carla))
        assert await socket.connect()
        message = await socket.next_message()
        assert message["count"] == 1
        assert "Notifiche: 1 non letta" in message["html"]  # Italian, singular
        await socket.disconnect()

    run(scenario)


def test_a_deactivated_users_socket_is_closed_before_the_next_push(push_only: None) -> None:
    async def scenario() -> None:
        (carla,) = await _people("carla")
        socket = await _open(carla)
        await database_sync_to_async(User.objects.filter(pk=carla.pk).update)(is_active=False)
        await database_sync_to_async(live.publish)([carla.pk])
        message = await socket.receive_output(5)
        assert message == {"type": "websocket.close", "code": 4404}
        await socket.disconnect()

    run(scenario)
