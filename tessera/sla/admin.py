"""SLA settings in the Django admin. The policy and calendar editors carry a calendar preview
panel that answers through `services.preview_calendar`, the same function as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import dateformat
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import ValidationFailed
from tessera.sla import services
from tessera.sla.forms import PreviewForm
from tessera.sla.models import (
    BusinessCalendar,
    DepartmentSla,
    EscalationRule,
    PriorityMatrix,
    SlaPolicy,
    SlaTarget,
)

# Where the service's field names show in the form.
_PREVIEW_FIELDS = {
    "calendar_id": "calendar",
    "definition": "calendar",
    "start": "start",
    "minutes": "minutes",
    "end": "end",
    "pauses": "pauses",
}


@dataclass(frozen=True)
class ShownInstant:
    """An instant as the panel shows it: in the calendar's zone, in UTC, and machine-readable."""

    local: str
    utc: str
    iso: str

    @classmethod
    def of(cls, instant: datetime, zone: ZoneInfo) -> ShownInstant:
        clock = "H:i:s" if instant.second or instant.microsecond else "H:i"
        return cls(
            local=dateformat.format(instant.astimezone(zone), f"D j M Y, {clock} T"),
            utc=dateformat.format(instant.astimezone(UTC), f"Y-m-d {clock}") + " UTC",
            iso=instant.astimezone(UTC).isoformat(),
        )


class CalendarPreviewAdmin[M: models.Model](admin.ModelAdmin[M]):
    """A change page with the calendar preview panel below the form, and the panel's own URL (an
    htmx POST swaps the panel; without JavaScript the form posts to a page of its own)."""

    change_form_template = "sla/admin/change_form.html"

    def preview_target(self, obj: M) -> BusinessCalendar:
        """The calendar the panel starts on."""
        raise NotImplementedError

    def preview_is_fixed(self) -> bool:
        """Whether the panel previews only `preview_target` (with the edited definition)."""
        return False

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_preview"
        return [
            path("<path:object_id>/preview/", self.admin_site.admin_view(self.preview_view), name=name),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_permission(request, obj):
            extra_context = {**(extra_context or {}), **self._panel(obj, self._blank_form(obj))}
        return super().change_view(request, object_id, form_url, extra_context)

    def preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("Not found."))
        if not self.has_view_permission(request, obj):
            raise HttpForbidden
        answers: dict[str, Any] | None = None
        if request.method == "POST":
            form = PreviewForm(
                request.POST,
                fixed_calendar=self.preview_target(obj) if self.preview_is_fixed() else None,
                draft=request.POST.get("definition") if self.preview_is_fixed() else None,
            )
            if form.is_valid():
                user = request.user
                assert isinstance(user, User)  # noqa: S101 - admin_view let only staff in
                answers = _answer(form, user)
        else:
            form = self._blank_form(obj)
        context = {**self.admin_site.each_context(request), **self._panel(obj, form, answers)}
        context.update(title=_("Calendar preview"), opts=self.opts, original=obj, back=self._change_url(obj))
        template = (
            "sla/admin/_preview.html" if request.headers.get("HX-Request") else "sla/admin/preview.html"
        )
        return TemplateResponse(request, template, context, status=422 if form.errors else 200)

    def _blank_form(self, obj: M) -> PreviewForm:
        calendar = self.preview_target(obj)
        return PreviewForm(
            initial={"calendar": calendar.pk, "time_zone": calendar.definition.get("tz", "UTC")},
            fixed_calendar=calendar if self.preview_is_fixed() else None,
        )

    def _panel(self, obj: M, form: PreviewForm, answers: dict[str, Any] | None = None) -> dict[str, Any]:
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_preview", args=[obj.pk]
        )
        return {
            "preview_form": form,
            "preview_url": url,
            "preview_fixed": self.preview_target(obj) if self.preview_is_fixed() else None,
            "preview_answers": answers,
        }

    def _change_url(self, obj: M) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )


def _answer(form: PreviewForm, actor: User) -> dict[str, Any] | None:
    """Ask the service each question the form holds; its refusals go next to the field concerned."""
    data = form.cleaned_data
    calendar: BusinessCalendar = data["calendar"]
    draft = data["definition"]

    def ask(minutes: float | None = None, end: datetime | None = None) -> services.Preview:
        return services.preview_calendar(
            actor=actor,
            calendar_id=None if draft is not None else calendar.pk,
            definition=draft,
            start=data["start"],
            minutes=minutes,
            end=end,
            pauses=data["pauses"],
        )

    try:
        due = ask(minutes=data["minutes"]) if data["minutes"] is not None else None
        between = ask(end=data["end"]) if data["end"] is not None else None
    except ValidationFailed as error:
        form.add_error(_PREVIEW_FIELDS.get(error.field or ""), str(error.message))
        return None
    answered = due or between
    assert answered is not None  # noqa: S101 - the form requires minutes or an end
    zone = ZoneInfo(answered.calendar.tz)
    minutes = between.business_minutes if between else None
    return {
        "calendar": calendar,
        "draft": draft is not None and draft != calendar.definition,
        "zone": answered.calendar.tz,
        "start": ShownInstant.of(data["start"], zone),
        "minutes": data["minutes"],
        "due": ShownInstant.of(due.due, zone) if due and due.due else None,
        "paused": due is not None and due.due is None,
        "end": ShownInstant.of(data["end"], zone) if data["end"] else None,
        "business_minutes": minutes,
        "hours": _hours(minutes) if minutes is not None else "",
    }


def _hours(minutes: float) -> str:
    hours, rest = divmod(round(minutes), 60)
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(CalendarPreviewAdmin[BusinessCalendar]):
    list_display = ("name", "created_at")
    search_fields = ("name",)

    def preview_target(self, obj: BusinessCalendar) -> BusinessCalendar:
        return obj

    def preview_is_fixed(self) -> bool:
        return True

    def save_model(self, request: HttpRequest, obj: BusinessCalendar, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for warning in services.calendar_warnings(obj.as_calendar()):
            messages.warning(request, warning)
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
class SlaPolicyAdmin(CalendarPreviewAdmin[SlaPolicy]):
    list_display = ("name", "order", "department", "organisation", "channel", "calendar", "is_active")
    list_editable = ("order", "is_active")
    inlines = (SlaTargetInline, EscalationRuleInline)

    def preview_target(self, obj: SlaPolicy) -> BusinessCalendar:
        return obj.calendar

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Same rule as the API: running tickets follow a new calendar of the policy or of their priority.
        services.follow_policy_calendars(form.instance)


@admin.register(DepartmentSla)
class DepartmentSlaAdmin(admin.ModelAdmin[DepartmentSla]):
    list_display = ("department", "priority_input")
    list_editable = ("priority_input",)
