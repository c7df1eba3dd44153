from __future__ import annotations

from django.contrib import admin

from tessera.sla.models import BusinessCalendar, PriorityMatrix, SlaPolicy, SlaTarget


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin[BusinessCalendar]):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(PriorityMatrix)
class PriorityMatrixAdmin(admin.ModelAdmin[PriorityMatrix]):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)


class SlaTargetInline(admin.TabularInline[SlaTarget, SlaPolicy]):
    model = SlaTarget
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin[SlaPolicy]):
    list_display = ("name", "order", "department", "organisation", "channel", "calendar", "is_active")
    list_editable = ("order", "is_active")
    inlines = (SlaTargetInline,)
