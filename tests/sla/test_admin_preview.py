"""The calendar preview panel of the admin's policy and calendar editors: the same answers as the
API (one service computes both), errors next to the fields, staff with SLA permissions only."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tessera.accounts.models import User
from tessera.sla.demo import ALWAYS_CALENDAR, OFFICE_CALENDAR, STANDARD_POLICY, office_definition
from tessera.sla.models import BusinessCalendar, SlaPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db


def _staff(*permissions: str) -> User:
    """An administrator; with no permission names given, a superuser."""
    user = f.admin()
    if permissions:
        user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    else:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    return user


def _client(user: User | None, **options: Any) -> Client:
    client = Client(**options)
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _policy_url(suffix: str = "preview/") -> str:
    return f"/admin/sla/slapolicy/{SlaPolicy.objects.get(name=STANDARD_POLICY).pk}/{suffix}"


def _calendar_url(name: str, suffix: str = "preview/") -> str:
    return f"/admin/sla/businesscalendar/{BusinessCalendar.objects.get(name=name).pk}/{suffix}"


def _form(calendar_name: str = OFFICE_CALENDAR, **fields: str) -> dict[str, str]:
    """The panel's fields, prefixed as the page sends them; `fields` override the defaults."""
    data = {
        "calendar": str(BusinessCalendar.objects.get(name=calendar_name).pk),
        "time_zone": "Europe/Rome",
        "start": "2026-11-20T17:30",
        "minutes": "60",
        "end": "",
        "pauses": "",
        **fields,
    }
    return {f"preview-{name}": value for name, value in data.items()}


def _instant(html: str, element_id: str) -> datetime:
    found = re.search(rf'id="{element_id}"><time datetime="([^"]+)"', html)
    assert found, html
    return datetime.fromisoformat(found.group(1))


def _minutes(html: str) -> float:
    found = re.search(r'id="preview-between"><data value="([^"]+)"', html)
    assert found, html
    return float(found.group(1))


def _field_errors(html: str) -> dict[str, str]:
    """Preview field name -> its error text, for the fields shown with an error."""
    errors = {}
    for chunk in html.split('<div class="sla-preview-field')[1:]:
        name = re.search(r'name="preview-(\w+)"', chunk)
        message = re.search(r'<ul class="errorlist[^"]*"[^>]*>\s*<li>(.*?)</li>', chunk, re.S)
        if name and message:
            errors[name.group(1)] = message.group(1)
    return errors


# Hand-computed answers. Each: calendar, the admin's input (wall times in Europe/Rome), the same
# question for the API (explicit offsets), the expected due instant (UTC) and business minutes.
CASES = {
    # DST week: Fri 23 Oct 2026 17:00 CEST, 1 h on Friday, the clocks go back on Sunday, 1 h on
    # Monday: due Mon 26 Oct 10:00 CET.
    "fall-back week": (
        OFFICE_CALENDAR,
        {"start": "2026-10-23T17:00", "minutes": "120", "end": "2026-10-26T10:00"},
        {"start": "2026-10-23T17:00:00+02:00", "end": "2026-10-26T10:00:00+01:00", "pauses": []},
        "2026-10-26T09:00:00+00:00",
        120.0,
    ),
    # 24/7 across the fall-back: that Sunday lasts 25 hours, so 24 business hours end at 11:00.
    "24/7 fall-back": (
        ALWAYS_CALENDAR,
        {"start": "2026-10-24T12:00", "minutes": "1440", "end": "2026-10-25T12:00"},
        {"start": "2026-10-24T12:00:00+02:00", "end": "2026-10-25T12:00:00+01:00", "pauses": []},
        "2026-10-25T10:00:00+00:00",
        25 * 60.0,
    ),
    # Holiday: Tuesday 8 Dec 2026 (Immacolata) is closed on the Italian calendar.
    "holiday": (
        OFFICE_CALENDAR,
        {"start": "2026-12-07T17:00", "minutes": "120", "end": "2026-12-09T10:00"},
        {"start": "2026-12-07T17:00:00+01:00", "end": "2026-12-09T10:00:00+01:00", "pauses": []},
        "2026-12-09T09:00:00+00:00",
        120.0,
    ),
    # Spring-forward week with Easter Monday (29 Mar 2027) closed and two pauses, the second typed
    # with an explicit offset: Fri 16-17 (60), Tue 10-12 (180), paused 12-13, Tue 13-15 (300).
    # Between: Fri 60 + Tue 120 + Tue 13-18 300 + Wed 09-12 180 = 660.
    "spring-forward, Easter and pauses": (
        OFFICE_CALENDAR,
        {
            "start": "2027-03-26T16:00",
            "minutes": "300",
            "end": "2027-03-31T12:00",
            "pauses": "2027-03-26 17:00 / 2027-03-30 10:00\n2027-03-30T12:00+02:00 / 2027-03-30T13:00+02:00",
        },
        {
            "start": "2027-03-26T16:00:00+01:00",
            "end": "2027-03-31T12:00:00+02:00",
            "pauses": [
                ["2027-03-26T17:00:00+01:00", "2027-03-30T10:00:00+02:00"],
                ["2027-03-30T12:00:00+02:00", "2027-03-30T13:00:00+02:00"],
            ],
        },
        "2027-03-30T13:00:00+00:00",
        660.0,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_panel_answers_what_the_api_answers(api_as: Any, case: tuple[Any, ...]) -> None:
    calendar, typed, api_input, expected_due, expected_minutes = case
    admin = _staff()
    response = _client(admin).post(_policy_url(), _form(calendar, **typed))
    assert response.status_code == 200, response.content.decode()
    html = response.content.decode()
    assert _instant(html, "preview-start") == datetime.fromisoformat(api_input["start"])
    assert _instant(html, "preview-due") == datetime.fromisoformat(expected_due)
    assert _minutes(html) == expected_minutes

    api = api_as(admin)
    common = {
        "calendar_id": BusinessCalendar.objects.get(name=calendar).pk,
        "start": api_input["start"],
        "pauses": api_input["pauses"],
    }
    due = api.post("/sla/preview", {**common, "minutes": float(typed["minutes"])})
    between = api.post("/sla/preview", {**common, "end": api_input["end"]})
    assert due.status_code == between.status_code == 200, (due.content, between.content)
    assert datetime.fromisoformat(due.json()["due"]) == datetime.fromisoformat(expected_due)
    assert between.json()["business_minutes"] == expected_minutes


def test_the_result_shows_the_calendar_zone_and_utc() -> None:
    response = _client(_staff()).post(_policy_url(), _form(**CASES["fall-back week"][1]))
    html = response.content.decode()
    due = re.search(r'id="preview-due">(.*?)</dd>', html, re.S)
    assert due is not None
    assert "Mon 26 Oct 2026, 10:00 CET" in due.group(1)
    assert "2026-10-26 09:00 UTC" in due.group(1)
    assert "Fri 23 Oct 2026, 17:00 CEST" in html  # the start, before the clocks went back
    assert "2 h 00 min" in html


def test_an_open_ended_pause_means_no_due_instant() -> None:
    response = _client(_staff()).post(
        _policy_url(), _form(start="2026-11-20T17:30", minutes="60", pauses="2026-11-20 17:40 /")
    )
    assert response.status_code == 200
    assert "a pause without an end stops the clock first" in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"start": ""}, "start", "This field is required."),
        ({"start": "next friday"}, "start", "is not a date and time"),
        # 02:30 on 28 Mar 2027 never happens in Rome: the clocks jump from 02:00 to 03:00.
        ({"start": "2027-03-28T02:30"}, "start", "does not exist in Europe/Rome"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
        ({"minutes": "", "end": ""}, "minutes", "Give a number of business minutes, an end, or both."),
        ({"minutes": "-5"}, "minutes", "greater than or equal to 0"),
        ({"minutes": "", "end": "2026-11-20T09:00"}, "end", "The end must not be before the start."),
        ({"pauses": "2026-11-20 18:00"}, "pauses", "Line 1: write the start, a slash and the end"),
        ({"pauses": "2026-11-23 10:00 / 2026-11-23 09:00"}, "pauses", "Pause 1 ends before it starts."),
        ({"calendar": "999999"}, "calendar", "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(fields: dict[str, str], field: str, message: str) -> None:
    response = _client(_staff()).post(_policy_url(), _form(**fields))
    assert response.status_code == 422
    html = response.content.decode()
    errors = _field_errors(html)
    assert list(errors) == [field], errors
    assert message in errors[field]
    assert 'id="preview-due"' not in html


def test_the_calendar_page_previews_the_definition_being_edited() -> None:
    client = _client(_staff())
    url = _calendar_url(OFFICE_CALENDAR)
    saved = client.post(url, _form(start="2026-11-20T17:30", minutes="60"))
    assert _instant(saved.content.decode(), "preview-due") == datetime.fromisoformat("2026-11-23T08:30Z")

    # Opening at 08:00 instead of 09:00, typed in the change form but not saved.
    draft = {
        **office_definition(),
        "weekly": {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    }
    edited = client.post(
        url, {**_form(start="2026-11-20T17:30", minutes="60"), "definition": json.dumps(draft)}
    )
    html = edited.content.decode()
    assert _instant(html, "preview-due") == datetime.fromisoformat("2026-11-23T07:30Z")
    assert "not saved yet" in html
    stored = BusinessCalendar.objects.get(name=OFFICE_CALENDAR).definition
    assert stored["weekly"]["mon"] == [["09:00", "18:00"]]  # nothing saved

    broken = client.post(url, {**_form(), "definition": "{not json"})
    assert broken.status_code == 422
    assert "The definition above is not valid JSON." in broken.content.decode()
    invalid = client.post(url, {**_form(), "definition": json.dumps({"tz": "Nowhere/Town"})})
    assert invalid.status_code == 422
    assert "Invalid calendar" in invalid.content.decode()


def test_the_calendar_page_cannot_preview_another_calendar() -> None:
    response = _client(_staff()).post(_calendar_url(OFFICE_CALENDAR), _form(ALWAYS_CALENDAR))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Select a valid choice" in html and 'id="preview-due"' not in html


def test_change_pages_carry_the_panel_and_htmx_gets_only_the_panel() -> None:
    client = _client(_staff())
    for change_url, preview_url in (
        (_policy_url("change/"), _policy_url()),
        (_calendar_url(ALWAYS_CALENDAR, "change/"), _calendar_url(ALWAYS_CALENDAR)),
    ):
        page = client.get(change_url).content.decode()
        assert 'id="sla-preview"' in page and f'hx-post="{preview_url}"' in page
        assert "htmx" in page  # the admin loads htmx for the panel
    partial = client.post(_policy_url(), _form(), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="sla-preview"') and "<html" not in body
    without_js = client.get(_policy_url())  # the panel's own page, for a browser without htmx
    assert without_js.status_code == 200 and 'name="preview-start"' in without_js.content.decode()
    full = client.post(_policy_url(), _form())
    assert "<html" in full.content.decode() and 'id="preview-due"' in full.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "customer", "agent"])
def test_non_staff_are_sent_to_the_admin_login(who: str) -> None:
    user = {"anonymous": None, "customer": f.customer(), "agent": f.agent()}[who]
    response = _client(user).post(_policy_url(), _form())
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_need_the_sla_view_permission() -> None:
    assert _client(_staff("view_businesscalendar")).post(_policy_url(), _form()).status_code == 403
    assert _client(_staff("view_slapolicy")).post(_policy_url(), _form()).status_code == 200
    assert _client(_staff("view_slapolicy")).post(_calendar_url(OFFICE_CALENDAR), _form()).status_code == 403


def test_the_panel_needs_the_csrf_token() -> None:
    client = _client(_staff(), enforce_csrf_checks=True)
    assert client.post(_policy_url(), _form()).status_code == 403
