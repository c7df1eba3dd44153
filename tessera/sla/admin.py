from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tessera.sla.models import (
    BusinessCalendar,
    DepartmentSla,
    EscalationRule,
    PriorityMatrix,
    SlaPolicy,
    SlaTarget,
)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin[BusinessCalendar]):
    list_display = ("name", "created_at")
    search_fields = ("name",)

    def save_model(self, request: HttpRequest, obj: BusinessCalendar, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "definition" in form.changed_data:
            # Same rule as the API: open tickets on this calendar get their dues recomputed.
            from tessera.sla.tasks import recompute_sla_dues

            recompute_sla_dues.enqueue(calendar_id=obj.pk)


@admin.register(PriorityMatrix)
class PriorityMatrixAdmin(admin.ModelAdmin[PriorityMatrix]):
    list_display = ("impact", "urgency", "priority")
    list_editable = ("priority",)


class SlaTargetInline(admin.TabularInline[SlaTarget, SlaPolicy]):
    model = SlaTarget
    extra = 0


class EscalationRuleInline(admin.TabularInline[EscalationRule, SlaPolicy]):
    model = EscalationRule
    fk_name = "policy"
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin[SlaPolicy]):
    list_display = ("name", "order", "department", "organisation", "channel", "calendar", "is_active")
    list_editable = ("order", "is_active")
    inlines = (SlaTargetInline, EscalationRuleInline)


@admin.register(DepartmentSla)
class DepartmentSlaAdmin(admin.ModelAdmin[DepartmentSla]):
    list_display = ("department", "priority_input")
    list_editable = ("priority_input",)
