from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from tessera.workspace import review_views, views

app_name = "workspace"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.queue, name="home"),
    path("q/<slug:key>/", views.queue, name="queue"),
    path("counts", views.counts, name="counts"),
    path("search", views.search, name="search"),
    path("bulk", views.bulk, name="bulk"),
    path("phone", views.phone, name="phone"),
    path("contacts", views.contacts, name="contacts"),
    path("mail/review/", review_views.mail_review, name="mail_review"),
    path("mail/review/<int:message_id>/", review_views.mail_held, name="mail_held"),
    path("mail/security/", review_views.security_log, name="security_log"),
    path("tickets/<int:ticket_id>/", views.ticket_view, name="ticket"),
    path("tickets/<int:ticket_id>/canned", views.canned, name="canned"),
    path(
        "tickets/<int:ticket_id>/<slug:action>",
        views.ticket_action,
        name="ticket_action",
    ),
]
