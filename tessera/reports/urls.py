from __future__ import annotations

from django.urls import path

from tessera.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:table>.csv", views.export, name="export"),
]
