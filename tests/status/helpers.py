"""Named status-page things for tests."""

from __future__ import annotations

from tessera.accounts.models import User
from tessera.status import services
from tessera.status.models import Component
from tests import factories


def component(
    group: str = "Dedicated servers", name: str = "Frankfurt", actor: User | None = None
) -> Component:
    return services.create_component(actor=actor or factories.admin(), group=group, name=name)
