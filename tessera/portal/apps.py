from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tessera.portal"
    label = "portal"
