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
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.contrib.sessions.models import Session
        from django.db.models.signals import post_delete, post_save

        from tessera.accounts import live

        user_logged_out.connect(live.on_logged_out, dispatch_uid="tessera.accounts.live.logged_out")
        post_save.connect(
            live.on_user_saved, sender=get_user_model(), dispatch_uid="tessera.accounts.live.saved"
        )
        post_delete.connect(
            live.on_session_deleted, sender=Session, dispatch_uid="tessera.accounts.live.session"
        )
