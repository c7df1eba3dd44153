"""Account settings: /account/… (allauth itself lives at /accounts/)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from tessera.accounts import views

app_name = "account"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.settings_page, name="settings"),
    path("profile", views.profile, name="profile"),
    path("addresses", views.set_address, name="set_address"),
    path("addresses/<str:kind>/remove", views.remove_address, name="remove_address"),
    path("addresses/confirm/<str:token>", views.confirm_address, name="confirm_address"),
    path("email-notifications", views.email_notifications, name="email_notifications"),
    path("tokens", views.create_token, name="create_token"),
    path("tokens/<int:token_id>/revoke", views.revoke_token, name="revoke_token"),
]
