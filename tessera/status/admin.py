"""Admin for the status page's fixed parts (groups, components). Posting incidents, updates and
maintenance goes through /status/manage/, so every post runs the services (history, cache, announcements)."""

from __future__ import annotations

from django.contrib import admin

from tessera.status.models import Component, ComponentGroup, Incident, Maintenance


class ComponentInline(admin.TabularInline[Component, ComponentGroup]):
    model = Component
    extra = 1
    fields = ("name", "description", "order", "is_public")


@admin.register(ComponentGroup)
class ComponentGroupAdmin(admin.ModelAdmin[ComponentGroup]):
    list_display = ("name", "order")
    inlines = (ComponentInline,)


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin[Component]):
    list_display = ("name", "group", "state", "is_public", "order")
    list_filter = ("group", "state", "is_public")
    search_fields = ("name", "group__name")
    readonly_fields = ("state",)  # changed by incidents and maintenance, with history, not here


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin[Incident]):
    list_display = ("title", "status", "impact", "started_at", "resolved_at")
    list_filter = ("status", "impact")

    def has_add_permission(self, request: object) -> bool:
        return False  # post at /status/manage/, which notifies customers

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin[Maintenance]):
    list_display = ("title", "status", "starts_at", "ends_at")
    list_filter = ("status",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
