from __future__ import annotations

from django.contrib import admin

from tessera.workspace.models import CannedResponse


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin[CannedResponse]):
    list_display = ("title", "department", "is_active")
    list_filter = ("department", "is_active")
    search_fields = ("title", "body")
