"""Websocket routes of every app, collected for tessera.asgi (the project's counterpart of urls.py)."""

from __future__ import annotations

from typing import Any

from tessera.notifications.routing import websocket_urlpatterns as notification_routes
from tessera.workspace.routing import websocket_urlpatterns as workspace_routes

websocket_urlpatterns: list[Any] = [*workspace_routes, *notification_routes]
