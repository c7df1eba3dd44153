from __future__ import annotations

from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "tessera.status"
    label = "status"
