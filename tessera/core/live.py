"""Pushing a message to a websocket group once the transaction that caused it commits.

A push only reaches consumers through the channel layer. With Redis that crosses processes; with the
default in-memory layer it only reaches consumers in the same process, which under `tessera serve` is
never the case for the HTTP workers (pages and API run on gunicorn, websockets on uvicorn). There each
push would cost an event loop round trip (~0.5 ms) for nobody, so it is skipped until a consumer has
connected in this process. The consumers also re-read the database on a timer, so a skipped push only
delays the news by that interval; it never loses it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

_consumers_here = False


def consumer_connected() -> None:
    """Called by every consumer on connect: this process serves websockets, so in-memory pushes count."""
    global _consumers_here
    _consumers_here = True


def pushes_can_arrive() -> bool:
    """Whether a group_send from this process can reach any consumer at all."""
    layer = get_channel_layer()
    return layer is not None and (not isinstance(layer, InMemoryChannelLayer) or _consumers_here)


def push_after_commit(group: str, message: dict[str, Any]) -> None:
    """Send `message` to `group` after commit (nothing if the transaction rolls back)."""
    if pushes_can_arrive():
        transaction.on_commit(lambda: send_now([(group, message)]))


def send_now(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    """Send each (group, message), in one trip through the event loop. Never raises: a push is an
    optimisation, and the consumers' own re-read reports the change anyway."""
    layer = get_channel_layer()
    if layer is None or not pushes or in_event_loop():
        return
    try:
        async_to_sync(_group_send_all)(layer, pushes)
    except Exception:
        logger.warning("push to %s failed", ", ".join(group for group, _ in pushes[:3]), exc_info=True)


async def _group_send_all(layer: Any, pushes: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in pushes:
        await layer.group_send(group, message)


def live_poll_seconds() -> float:
    """How often a consumer re-reads the database when pushes may not reach it."""
    return float(getattr(settings, "TESSERA_LIVE_POLL_SECONDS", 3.0))


def in_event_loop() -> bool:
    """True when called from async code, where the blocking async_to_sync bridge may not be used."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
