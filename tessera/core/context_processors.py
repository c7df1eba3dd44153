from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def live(request: HttpRequest) -> dict[str, Any]:
    """Where the pages' websockets connect: `tessera serve` runs them on a port of their own."""
    return {"websocket_port": settings.TESSERA_WEBSOCKET_PORT}
