"""The calendar preview form of the admin's policy and calendar editors.

The form only turns what an admin typed (wall times in a chosen zone, pauses one per line) into
aware instants; the answer comes from `services.preview_calendar`, the function the API calls.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tessera.accounts.preferences import time_zone_names
from tessera.sla.calendar import Pause
from tessera.sla.models import BusinessCalendar
from tessera.sla.services import MAX_PREVIEW_MINUTES

MAX_PAUSES = 100


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(attrs={"step": 60}, format="%Y-%m-%dT%H:%M")


class PreviewForm(forms.Form):
    calendar = forms.ModelChoiceField(
        BusinessCalendar.objects.all(), label=gettext_lazy("Calendar"), empty_label=None
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone of the times you type"),
        help_text=gettext_lazy("A time that happens twice when the clocks go back means the first one."),
    )
    start = forms.CharField(label=gettext_lazy("Start"), widget=DateTimeLocal())
    minutes = forms.FloatField(
        label=gettext_lazy("Business minutes after the start"),
        required=False,
        min_value=0,
        max_value=MAX_PREVIEW_MINUTES,
        help_text=gettext_lazy("When are they over? For example 480 for one 8-hour business day."),
    )
    end = forms.CharField(
        label=gettext_lazy("End"),
        required=False,
        widget=DateTimeLocal(),
        help_text=gettext_lazy("How many business minutes lie between the start and the end?"),
    )
    pauses = forms.CharField(
        label=gettext_lazy("Pauses (optional)"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "2026-11-16 10:00 / 2026-11-17 10:00"}),
        help_text=gettext_lazy(
            "One per line: start / end. Leave the end out for a pause that is still running "
            "(the customer has not answered yet)."
        ),
    )

    def __init__(
        self,
        *args: Any,
        fixed_calendar: BusinessCalendar | None = None,
        draft: str | None = None,
        **kwargs: Any,
    ) -> None:
        """`fixed_calendar`: the calendar page previews that calendar only. `draft`: its definition
        as edited in the change form above (htmx sends the textarea along), so an admin can check
        a change before saving it."""
        kwargs.setdefault("prefix", "preview")  # the change form on the same page has a "calendar" too
        super().__init__(*args, **kwargs)
        self.draft = draft
        zone_field = self.fields["time_zone"]
        assert isinstance(zone_field, forms.ChoiceField)  # noqa: S101 - declared above
        zone_field.choices = [(name, name) for name in time_zone_names()]
        if fixed_calendar is not None:
            # The calendar page previews the calendar being edited, nothing else.
            calendar_field = self.fields["calendar"]
            assert isinstance(calendar_field, forms.ModelChoiceField)  # noqa: S101 - declared above
            calendar_field.queryset = BusinessCalendar.objects.filter(pk=fixed_calendar.pk)
            calendar_field.widget = forms.HiddenInput()
            calendar_field.initial = fixed_calendar.pk

    # Field cleaning reads the typed dates and times; clean() then places the ones written without
    # an offset in the chosen zone (once that zone is known to be valid).

    def clean_start(self) -> datetime:
        return _parse(self.cleaned_data["start"])

    def clean_end(self) -> datetime | None:
        value = self.cleaned_data["end"]
        return _parse(value) if value else None

    def clean_pauses(self) -> list[Pause]:
        pauses: list[Pause] = []
        lines = [line.strip() for line in self.cleaned_data["pauses"].splitlines() if line.strip()]
        if len(lines) > MAX_PAUSES:
            raise forms.ValidationError(_("Give at most %(max)d pauses.") % {"max": MAX_PAUSES})
        for number, line in enumerate(lines, start=1):
            parts = line.split("/")
            if len(parts) != 2 or not parts[0].strip():
                raise forms.ValidationError(
                    _("Line %(number)d: write the start, a slash and the end (the end may be left out).")
                    % {"number": number}
                )
            end = _parse(parts[1], line=number) if parts[1].strip() else None
            pauses.append((_parse(parts[0], line=number), end))
        return pauses

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "time_zone" not in data:
            return data  # its own error says what is wrong; nothing can be placed in time
        zone = ZoneInfo(data["time_zone"])
        for name in ("start", "end"):
            if data.get(name) is not None:
                try:
                    data[name] = _in_zone(data[name], zone)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if "pauses" in data:
            try:
                data["pauses"] = [
                    (_in_zone(s, zone, line=n), None if e is None else _in_zone(e, zone, line=n))
                    for n, (s, e) in enumerate(data["pauses"], start=1)
                ]
            except forms.ValidationError as error:
                self.add_error("pauses", error)
        if self.errors:
            return data
        if data.get("minutes") is None and data.get("end") is None:
            self.add_error("minutes", _("Give a number of business minutes, an end, or both."))
        data["definition"] = None
        if self.draft and self.draft.strip():
            try:
                data["definition"] = json.loads(self.draft)
            except ValueError:
                self.add_error("calendar", _("The definition above is not valid JSON."))
        return data


def _where(line: int | None) -> str:
    return _("Line %(number)d: ") % {"number": line} if line else ""


def _parse(text: str, *, line: int | None = None) -> datetime:
    """A typed date and time, with its offset if one was written."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise forms.ValidationError(
            _("%(where)s“%(value)s” is not a date and time like 2026-11-16 09:30.")
            % {"where": _where(line), "value": text.strip()[:40]}
        ) from None


def _in_zone(value: datetime, zone: ZoneInfo, *, line: int | None = None) -> datetime:
    """An aware instant: an explicit offset is kept, a wall time is read in `zone`, and a wall time
    the clocks skip is refused rather than guessed."""
    if value.tzinfo is not None:
        return value
    aware = value.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        raise forms.ValidationError(
            _("%(where)s%(value)s does not exist in %(zone)s: the clocks skip that hour.")
            % {"where": _where(line), "value": value.strftime("%Y-%m-%d %H:%M"), "zone": zone.key}
        )
    return aware
