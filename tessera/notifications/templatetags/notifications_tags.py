"""`{% notification_bell %}`: the top bar's bell with the unread count, kept current over a websocket
(notifications.js, tessera.notifications.live) and by htmx polling while that is closed."""

from __future__ import annotations

from typing import Any

from django import template

from tessera.notifications import services

register = template.Library()


@register.inclusion_tag("notifications/partials/_bell_tag.html", takes_context=True)
def notification_bell(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": services.unread_count(user), "poll_seconds": services.poll_seconds()}
