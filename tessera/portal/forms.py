"""Client-area forms: validation only, no writes (the services write)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one control; each is checked by the ticket services, not here."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> Any:
        return data


BLANK = [("", "—")]


def _choices(enum: Any) -> list[tuple[str, str]]:
    return BLANK + list(enum.choices)


class NewTicketForm(forms.Form):
    """The new-ticket form. Only shape checks here; create_ticket validates the rest, and its errors are
    mapped back onto these fields by name."""

    requester: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Who is this request for?"),
        empty_label=pgettext_lazy("requester", "Me"),
        help_text=_("You can open a ticket on behalf of a colleague of your organisation."),
    )
    department: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, label=_("Department"), empty_label=_("Choose…")
    )
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, what you expected, and what you already tried."),
    )
    priority: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, label=_("Priority"), required=False, empty_label=None
    )
    impact = forms.ChoiceField(
        label=_("Who is affected?"), choices=[], required=False, widget=forms.RadioSelect
    )
    urgency = forms.ChoiceField(
        label=_("How urgent is it?"), choices=[], required=False, widget=forms.RadioSelect
    )
    affected_service = forms.CharField(label=_("Affected service"), max_length=200, required=False)
    server_ip = forms.CharField(label=_("Server IP address"), max_length=64, required=False)
    order_number = forms.CharField(label=_("Order number"), max_length=64, required=False)
    problem_started_at = forms.DateTimeField(
        label=_("When did the problem start?"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )
    problem_started_tz = forms.ChoiceField(label=_("Time zone"), choices=[], required=False)
    frequency = forms.ChoiceField(label=_("How often does it happen?"), choices=[], required=False)
    location = forms.ChoiceField(label=_("Where does it happen?"), choices=[], required=False)
    others_affected = forms.ChoiceField(label=_("Are others affected?"), choices=[], required=False)
    error_message = forms.CharField(
        label=_("Exact error message"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    recent_changes = forms.CharField(
        label=_("Recent changes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Updates, new software, configuration changes just before the problem."),
    )
    diagnostics = forms.CharField(
        label=_("Diagnostics"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Output of ping, traceroute or other checks you ran."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Screenshots, logs or documents. You can choose several files or drop them here."),
    )
    upload_token = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, services: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tessera.accounts.models import Department, User
        from tessera.accounts.preferences import time_zone_names
        from tessera.tickets.models import Frequency, Impact, Location, OthersAffected, Priority, Urgency

        fields = self.fields
        fields["department"].queryset = Department.objects.filter(is_active=True)  # type: ignore[attr-defined]
        fields["priority"].queryset = Priority.objects.all()  # type: ignore[attr-defined]
        default = Priority.objects.filter(is_default=True).first()
        if default is not None:
            fields["priority"].initial = default.pk
        fields["impact"].choices = list(Impact.choices)  # type: ignore[attr-defined]
        fields["urgency"].choices = list(Urgency.choices)  # type: ignore[attr-defined]
        fields["frequency"].choices = _choices(Frequency)  # type: ignore[attr-defined]
        fields["location"].choices = _choices(Location)  # type: ignore[attr-defined]
        fields["others_affected"].choices = _choices(OthersAffected)  # type: ignore[attr-defined]
        fields["problem_started_tz"].choices = [(z, z) for z in time_zone_names()]  # type: ignore[attr-defined]
        fields["problem_started_tz"].initial = user.time_zone
        colleagues = (
            User.objects.filter(organisation_id=user.organisation_id, role=User.Role.CUSTOMER, is_active=True)
            .exclude(pk=user.pk)
            .order_by("full_name", "email")
            if user.organisation_id
            else User.objects.none()
        )
        fields["requester"].queryset = colleagues  # type: ignore[attr-defined]
        fields["requester"].label_from_instance = lambda u: f"{u.display_name} <{u.email}>"  # type: ignore[attr-defined]
        self.has_colleagues = colleagues.exists()
        if not self.has_colleagues:
            del fields["requester"]
        self.services = services or []
        # Changing how the ticket is classified refreshes the questions and required details (htmx).
        from django.urls import reverse

        refresh = {
            "hx-post": reverse("portal_new_ticket_fields"),
            "hx-trigger": "change",
            "hx-target": "#ticket-fields",
            "hx-swap": "outerHTML",
            "hx-params": "not attachments",
        }
        for name in ("department", "priority", "impact", "urgency"):
            fields[name].widget.attrs.update(refresh)
        if self.services:
            fields["affected_service"] = forms.ChoiceField(
                label=_("Affected service"),
                required=False,
                choices=BLANK + [(s.name, str(s)) for s in self.services],
                help_text=_("As shown in your client area."),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        started = data.get("problem_started_at")
        zone = data.get("problem_started_tz") or ""
        if started is not None and zone:
            # The browser sends a wall-clock time; it is meant in the zone chosen next to it.
            import zoneinfo

            from django.utils import timezone

            wall = timezone.make_naive(started)
            data["problem_started_at"] = wall.replace(tzinfo=zoneinfo.ZoneInfo(zone))
        return data


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
