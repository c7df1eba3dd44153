"""/status/: the public status page, its feeds, and the agents' page for posting."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from tessera.status import feeds, staff_views, views

app_name = "status"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.status_page, name="page"),
    path("language", views.set_language, name="language"),
    path("incidents/<int:incident_id>", views.incident_detail, name="incident"),
    path("maintenance/<int:maintenance_id>", views.maintenance_detail, name="maintenance"),
    path("maintenance/<int:maintenance_id>.ics", feeds.maintenance_event, name="maintenance_ics"),
    path("feed.atom", feeds.StatusFeed(), name="feed"),
    path("maintenance.ics", feeds.maintenance_calendar, name="calendar"),
    path("manage/", staff_views.dashboard, name="manage"),
    path("manage/incidents/new", staff_views.new_incident, name="manage_new_incident"),
    path("manage/incidents/<int:incident_id>", staff_views.incident, name="manage_incident"),
    path("manage/maintenance/new", staff_views.new_maintenance, name="manage_new_maintenance"),
    path("manage/maintenance/<int:maintenance_id>", staff_views.maintenance, name="manage_maintenance"),
]
