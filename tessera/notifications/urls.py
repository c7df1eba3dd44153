"""The notification centre: /notifications/…"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from tessera.notifications import views

app_name = "notifications"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.notification_list, name="list"),
    path("bell", views.bell, name="bell"),
    path("read-all", views.read_all, name="read_all"),
    path("<int:notification_id>/read", views.read, name="read"),
    path("<int:notification_id>/open", views.open_notification, name="open"),
]
