"""The ticket-watch websocket, driven through the real ASGI application with channels' communicator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from django.test import Client

from tessera.accounts.models import Membership, User
from tessera.core import live as core_live
from tessera.tickets import services
from tessera.tickets.models import Status, Ticket, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


class WebsocketCommunicator(ApplicationCommunicator):
    """channels.testing.WebsocketCommunicator without importing channels.testing, which needs daphne."""

    def __init__(self, path: str, session_cookie: str) -> None:
        from tessera.asgi import application  # built after the test settings allow "testserver"

        path, _sep, query = path.partition("?")
        super().__init__(
            application,
            {
                "type": "websocket",
                "path": path,
                "query_string": query.encode(),
                "headers": [
                    (b"origin", b"http://testserver"),
                    (b"host", b"testserver"),
                    (b"cookie", f"sessionid={session_cookie}".encode()),
                ],
                "subprotocols": [],
            },
        )

    async def connect(self) -> bool:
        await self.send_input({"type": "websocket.connect"})
        return (await self.receive_output(5))["type"] == "websocket.accept"

    async def receive_json_from(self, timeout: float) -> Any:
        message = await self.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(1)


@database_sync_to_async
def session_for(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return str(client.cookies["sessionid"].value)


async def connect(user: Any, ticket_id: int, seen: int = 0) -> WebsocketCommunicator:
    """A websocket signed in the way a browser is: with the session cookie, through the real ASGI stack."""
    return WebsocketCommunicator(f"/ws/agent/tickets/{ticket_id}/?seen={seen}", await session_for(user))


def last_event(ticket_id: int) -> int:
    return TimelineEvent.objects.filter(ticket_id=ticket_id).order_by("-id").values_list("id", flat=True)[0]


@database_sync_to_async
def setup() -> tuple[Any, Any, Any, Any, Any, int]:
    carla = factories.customer("carla")
    watcher = factories.agent("technical", name="watcher")
    other = factories.agent("technical", name="tomasz")
    outsider = factories.agent("billing")
    ticket = factories.ticket(carla)
    return carla, watcher, other, outsider, ticket, last_event(ticket.pk)


async def _test_only_agents_who_can_see_the_ticket_may_watch(settings: Any) -> None:
    carla, _w, _o, outsider, ticket, _seen = await setup()
    for user in (carla, outsider):
        communicator = await connect(user, ticket.pk)
        connected = await communicator.connect()
        assert not connected
        await communicator.disconnect()


async def _test_pushes_other_agents_changes_but_not_ones_own(settings: Any) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 3600  # only the push can deliver within this test
    _c, watcher, other, _x, ticket, seen = await setup()
    communicator = await connect(watcher, ticket.pk, seen)
    connected = await communicator.connect()
    assert connected

    await database_sync_to_async(services.add_note)(actor=watcher, ticket=ticket, body="mine")
    assert await communicator.receive_nothing(timeout=0.3)

    await database_sync_to_async(services.add_reply)(actor=other, ticket=ticket, body="On it")
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "changed"
    assert message["changes"] == ["Tomasz replied", "Tomasz changed the status to Open"]
    await communicator.disconnect()


async def _test_watcher_notices_changes_without_a_cross_process_layer(
    settings: Any, monkeypatch: Any
) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 0.05
    # As under gunicorn + a separate websocket process with the in-memory layer: no push arrives.
    monkeypatch.setattr(core_live, "send_now", lambda pushes: None)
    _c, watcher, other, _x, ticket, seen = await setup()
    communicator = await connect(watcher, ticket.pk, seen)
    connected = await communicator.connect()
    assert connected
    await database_sync_to_async(services.transition_ticket)(
        actor=other, ticket=ticket, status=Status.WAITING, reason="Which server?"
    )
    message = await communicator.receive_json_from(timeout=5)
    assert message["changes"] == ["Tomasz changed the status to Waiting on customer"]
    assert await communicator.receive_nothing(timeout=0.3)  # told once
    await communicator.disconnect()


def test_only_agents_who_can_see_the_ticket_may_watch(settings: Any) -> None:
    async_to_sync(_test_only_agents_who_can_see_the_ticket_may_watch)(settings)


def test_pushes_other_agents_changes_but_not_ones_own(settings: Any) -> None:
    async_to_sync(_test_pushes_other_agents_changes_but_not_ones_own)(settings)


def test_watcher_notices_changes_without_a_cross_process_layer(settings: Any, monkeypatch: Any) -> None:
    async_to_sync(_test_watcher_notices_changes_without_a_cross_process_layer)(settings, monkeypatch)


async def _closed_code(communicator: WebsocketCommunicator) -> int:
    message = await communicator.receive_output(5)
    assert message["type"] == "websocket.close", message
    return int(message["code"])


async def _test_an_agent_removed_from_the_department_stops_receiving(settings: Any) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 3600  # only the push can deliver within this test
    _c, watcher, other, _x, ticket, seen = await setup()
    communicator = await connect(watcher, ticket.pk, seen)
    assert await communicator.connect()
    await database_sync_to_async(Membership.objects.filter(agent=watcher).delete)()
    # Routing may have assigned the ticket to the watcher, who would then still see it.
    await database_sync_to_async(Ticket.objects.filter(pk=ticket.pk).update)(assignee=other)

    await database_sync_to_async(services.add_reply)(actor=other, ticket=ticket, body="Secret plan")
    assert await _closed_code(communicator) == 4404  # access re-checked before the push: nothing sent
    await communicator.disconnect()


async def _test_a_ticket_moved_to_another_department_stops_its_pushes(settings: Any) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 3600
    _c, watcher, _other, _x, ticket, seen = await setup()
    communicator = await connect(watcher, ticket.pk, seen)
    assert await communicator.connect()
    admin = await database_sync_to_async(factories.admin)()
    billing = await database_sync_to_async(factories.department)("billing")
    await database_sync_to_async(Ticket.objects.filter(pk=ticket.pk).update)(assignee=None)
    ticket = await database_sync_to_async(Ticket.objects.get)(pk=ticket.pk)
    await database_sync_to_async(services.change_department)(actor=admin, ticket=ticket, department=billing)
    assert await _closed_code(communicator) == 4404
    await communicator.disconnect()


async def _test_the_watch_re_checks_access_too(settings: Any, monkeypatch: Any) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 0.05
    monkeypatch.setattr(core_live, "send_now", lambda pushes: None)  # no push: the timer finds the news
    _c, watcher, other, _x, ticket, seen = await setup()
    communicator = await connect(watcher, ticket.pk, seen)
    assert await communicator.connect()
    await database_sync_to_async(User.objects.filter(pk=watcher.pk).update)(is_active=False)
    await database_sync_to_async(services.add_reply)(actor=other, ticket=ticket, body="Secret plan")
    # A disabled account's sign-in has ended: the timer's check closes the socket as signed out, which
    # the page does not try to reopen (tessera.accounts.live).
    assert await _closed_code(communicator) == 4403
    await communicator.disconnect()


def test_an_agent_removed_from_the_department_stops_receiving(settings: Any) -> None:
    async_to_sync(_test_an_agent_removed_from_the_department_stops_receiving)(settings)


def test_a_ticket_moved_to_another_department_stops_its_pushes(settings: Any) -> None:
    async_to_sync(_test_a_ticket_moved_to_another_department_stops_its_pushes)(settings)


def test_the_watch_re_checks_access_too(settings: Any, monkeypatch: Any) -> None:
    async_to_sync(_test_the_watch_re_checks_access_too)(settings, monkeypatch)
