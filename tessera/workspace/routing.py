from __future__ import annotations

from django.urls import path

from tessera.workspace.consumers import TicketWatchConsumer

websocket_urlpatterns = [
    path("ws/agent/tickets/<int:ticket_id>/", TicketWatchConsumer.as_asgi()),
]
