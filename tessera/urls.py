from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tessera.api.urls import api
from tessera.health import health

urlpatterns = [
    path("", include("tessera.portal.urls")),
    path("health", health, name="health"),
    path("api/v1/", api.urls),
    path("agent/", include("tessera.workspace.urls")),
    path("notifications/", include("tessera.notifications.urls")),
    path("account/", include("tessera.accounts.urls")),
    path("status/", include("tessera.status.urls")),
    path("reports/", include("tessera.reports.urls")),
    path("mail/", include("tessera.mail.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

admin.site.site_header = "Tessera"
admin.site.site_title = "Tessera"
if settings.DEBUG:
    admin.site.site_header = "Tessera (development)"

handler500 = "tessera.core.outage.server_error"
