"""Forms of the agents' status page: shape checks only; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tessera.status.models import Component, ComponentState, IncidentImpact, IncidentStatus

STATE_CHOICES = [("", _("Leave as it is")), *ComponentState.choices]


class ComponentsField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.group.name} / {obj.name}"


def _components() -> ComponentsField:
    return ComponentsField(
        queryset=Component.objects.select_related("group"),
        label=_("Affected components"),
        widget=forms.CheckboxSelectMultiple,
    )


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    impact = forms.ChoiceField(label=_("Impact"), choices=IncidentImpact.choices)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[c for c in IncidentStatus.choices if c[0] != IncidentStatus.RESOLVED],
    )
    components = _components()
    component_state = forms.ChoiceField(
        label=_("Set the components to"), choices=STATE_CHOICES, required=False, initial="major_outage"
    )
    body = forms.CharField(label=_("What customers should know"), widget=forms.Textarea(attrs={"rows": 5}))
    notify = forms.BooleanField(
        label=_("Notify the customers of these components (client area and email)"),
        required=False,
        initial=True,
    )


class UpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=IncidentStatus.choices)
    component_state = forms.ChoiceField(
        label=_("Set the components to"), choices=STATE_CHOICES, required=False
    )
    body = forms.CharField(label=_("Update"), widget=forms.Textarea(attrs={"rows": 4}))
    notify = forms.BooleanField(label=_("Notify the affected customers"), required=False, initial=True)


class MaintenanceForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeLocal())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeLocal())
    components = _components()
    description = forms.CharField(
        label=_("What customers should know"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    notify = forms.BooleanField(label=_("Notify the affected customers"), required=False, initial=True)


class RescheduleForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeLocal())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeLocal())
    notify = forms.BooleanField(label=_("Notify the affected customers"), required=False, initial=True)


class LinkTicketForm(forms.Form):
    ticket = forms.CharField(
        label=_("Ticket number"), max_length=32, help_text=_("For example TS-1042 or 1042.")
    )

    def clean_ticket(self) -> int:
        digits = "".join(ch for ch in self.cleaned_data["ticket"] if ch.isascii() and ch.isdigit())
        if not digits or len(digits) > 12:
            raise forms.ValidationError(_("Give a ticket number."))
        return int(digits)


class AnswerTicketsForm(forms.Form):
    body = forms.CharField(label=_("Reply to every linked ticket"), widget=forms.Textarea(attrs={"rows": 4}))
    resolve = forms.BooleanField(label=_("Resolve the tickets"), required=False, initial=True)


class ComponentStateForm(forms.Form):
    component = forms.ModelChoiceField(queryset=Component.objects.all())
    state = forms.ChoiceField(choices=ComponentState.choices)
