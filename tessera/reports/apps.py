from __future__ import annotations

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Read-only: no models and no services, only queries over the tickets' and SLA apps' tables."""

    name = "tessera.reports"
    label = "reports"
