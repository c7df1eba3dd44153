from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tessera.accounts"
    label = "accounts"

    def ready(self) -> None:
        from allauth.account.signals import password_reset

        from tessera.accounts.adapters import verify_address_on_password_reset

        password_reset.connect(
            verify_address_on_password_reset, dispatch_uid="tessera.accounts.verify_on_reset"
        )
