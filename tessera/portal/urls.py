"""Client-area URLs. No namespace: `home` is used by name across the project."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from tessera.portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("tickets/new", views.new_ticket, name="portal_new_ticket"),
    path("tickets/new/fields", views.new_ticket_fields, name="portal_new_ticket_fields"),
    path("tickets/<str:reference>", views.ticket_detail, name="portal_ticket"),
    path("tickets/<str:reference>/reply", views.ticket_reply, name="portal_ticket_reply"),
    path("tickets/<str:reference>/status", views.ticket_status, name="portal_ticket_status"),
    path("files/<int:attachment_id>", views.attachment, name="portal_attachment"),
    # The preferences moved into the one account settings page; old links and bookmarks still arrive.
    path(
        "profile",
        RedirectView.as_view(pattern_name="account:settings", permanent=True),
        name="portal_profile",
    ),
    path("language", views.set_language, name="portal_set_language"),
]
