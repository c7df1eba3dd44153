from __future__ import annotations

from django.urls import path

from tessera.notifications.consumers import UnreadCountConsumer

websocket_urlpatterns = [
    path("ws/notifications/", UnreadCountConsumer.as_asgi()),
]
