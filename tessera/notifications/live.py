"""Telling open pages a user's unread count, without a reload.

Two paths, as for open ticket pages (tessera.workspace.live), so it is right in every deployment:
- push: after a commit that changes someone's notifications, their channel-layer group hears of it and
  the consumer reads the new count itself (through tessera.tickets.access). Only users with a page open
  are pushed to: consumers note that in the cache, so an announcement to 100,000 customers costs one
  cache read per batch of 1,000 and no channel-layer traffic for the many who are not looking.
- watch: the consumer also re-reads the count now and then. With the default in-memory layer, pushes
  from the HTTP workers and the task worker never reach the websocket process, so this is what carries
  the news there; with Redis it only repairs a push that was lost or overtaken.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from tessera.core.live import in_event_loop, live_poll_seconds, pushes_can_arrive, send_now

logger = logging.getLogger("tessera.notifications")

BATCH = 1000
MESSAGE_TYPE = "notifications.unread"  # handled by UnreadCountConsumer.notifications_unread


def group_name(user_id: int) -> str:
    return f"notifications.user.{user_id}"


def _presence_key(user_id: int) -> str:
    return f"notifications:live:{user_id}"


def watch_seconds() -> float:
    """How often an open page's consumer re-reads the count itself."""
    if isinstance(get_channel_layer(), InMemoryChannelLayer):
        # Pushes cannot cross processes: re-read as often as open ticket pages do.
        return live_poll_seconds()
    from tessera.notifications.services import poll_seconds

    return float(poll_seconds())


def mark_listening(user_id: int) -> None:
    """Called by the consumer on connect and on every watch; outlives a few missed watches."""
    cache.set(_presence_key(user_id), 1, timeout=max(60, int(3 * watch_seconds())))


def listening(user_ids: Iterable[int]) -> list[int]:
    """Which of these users have a page open (as far as the cache knows)."""
    found: list[int] = []
    for chunk in itertools.batched(user_ids, BATCH):
        keys = {_presence_key(user_id): user_id for user_id in chunk}
        found += [keys[key] for key in cache.get_many(list(keys))]
    return found


def publish_after_commit(user_ids: Iterable[int]) -> None:
    """Tell these users' open pages that their unread count changed, once the current transaction commits
    (nothing if it rolls back); each page's consumer reads the count itself, through the access rules.
    Callers pass each recipient once per batch, so a user gets one message per batch, not one per
    notification."""
    ids = sorted(set(user_ids))
    if ids and pushes_can_arrive():
        transaction.on_commit(lambda: publish(ids))


def publish(user_ids: list[int]) -> None:
    if get_channel_layer() is None or in_event_loop():
        return  # the consumers' watch reports the change anyway
    try:
        present = listening(user_ids)
    except Exception:  # a push is an optimisation; the watch still notices the change
        logger.warning("live unread push for %d users failed", len(user_ids), exc_info=True)
        return
    send_now([(group_name(user_id), {"type": MESSAGE_TYPE}) for user_id in present])


def bell_html(count: int, language: str) -> str:
    """The bell as the page shows it, in the user's language (plural forms and all), so the page swaps
    it in instead of building translated text in JavaScript."""
    from tessera.notifications.services import poll_seconds

    with translation.override(language):
        return render_to_string(
            "notifications/partials/_bell.html",
            {"show": True, "unread": count, "poll_seconds": poll_seconds()},
        )
