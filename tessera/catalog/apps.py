"""Customers' services and orders, as displayed in the client area."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "tessera.catalog"
    label = "catalog"
    verbose_name = _("Customer services")
