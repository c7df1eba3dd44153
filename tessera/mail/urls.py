from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from tessera.mail import views

app_name = "mail"
urlpatterns: list[URLPattern | URLResolver] = [
    path("anymail/", include("anymail.urls")),
    path("inbound/<int:pk>/original", views.original, name="original"),
]
