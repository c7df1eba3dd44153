"""Websocket routes of every app, collected for tessera.asgi."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
