from __future__ import annotations

from typing import Any

from django.contrib import admin

from tessera.tickets.models import Priority, RequiredFields, Tag, Ticket, TimelineEvent


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin[Priority]):
    list_display = ("name", "slug", "rank", "color", "is_default")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(RequiredFields)
class RequiredFieldsAdmin(admin.ModelAdmin[RequiredFields]):
    list_display = ("department", "priority", "fields")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    search_fields = ("name",)


class TimelineInline(admin.TabularInline[TimelineEvent, Ticket]):
    model = TimelineEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "channel", "old", "new", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin[Ticket]):
    """Read-only: tickets change through the services, so every change lands in the timeline."""

    list_display = (
        "id",
        "subject",
        "status",
        "priority",
        "department",
        "requester",
        "assignee",
        "updated_at",
    )
    list_filter = ("status", "priority", "department", "channel")
    search_fields = ("subject", "requester__email")
    list_select_related = ("priority", "department", "requester", "assignee")
    show_full_result_count = False  # COUNT(*) over a million rows on every page load is what sinks help desks
    inlines = (TimelineInline,)

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: Any) -> bool:
        return False
