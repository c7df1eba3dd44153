"""The calendar preview panel of the SLA admin pages in a real browser: htmx answers in place, errors
next to their fields, the calendar page previews the definition being edited; desktop and phone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tessera.accounts.models import User
from tessera.sla.demo import OFFICE_CALENDAR, STANDARD_POLICY
from tessera.sla.models import BusinessCalendar, SlaPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def _superuser() -> User:
    user = f.admin()
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def _panel_fits(page: Any) -> bool:
    return bool(
        page.evaluate(
            "(() => { const p = document.getElementById('sla-preview');"
            " return p.scrollWidth <= p.clientWidth + 1; })()"
        )
    )


def test_admin_previews_a_dst_week_on_the_policy_page(page_for: Any, shoot: Any) -> None:
    policy = SlaPolicy.objects.get(name=STANDARD_POLICY)
    page = page_for(user=_superuser())
    change_url = f"/admin/sla/slapolicy/{policy.pk}/change/"
    page.goto(change_url)
    panel = page.locator("#sla-preview")
    assert panel.get_by_role("heading", name="Calendar preview").is_visible()
    assert panel.get_by_label("Calendar").input_value() == str(policy.calendar_id)
    assert panel.get_by_label("Time zone of the times you type").input_value() == "Europe/Rome"

    # Friday 23 Oct 2026 17:00, the weekend the clocks go back.
    panel.get_by_label("Start", exact=True).fill("2026-10-23T17:00")
    panel.get_by_label("Business minutes after the start").fill("120")
    panel.get_by_label("End", exact=True).fill("2026-10-26T10:00")
    panel.get_by_role("button", name="Preview").click()

    due = page.locator("#preview-due")
    due.wait_for()
    assert "Mon 26 Oct 2026, 10:00 CET" in due.inner_text()
    assert "2026-10-26 09:00 UTC" in due.inner_text()
    assert "120 business minutes" in page.locator("#preview-between").inner_text()
    assert "Fri 23 Oct 2026, 17:00 CEST" in page.locator("#preview-start").inner_text()
    # Answered in place: still the change page, the policy form untouched above the panel.
    assert page.url.endswith(change_url)
    assert page.locator("#slapolicy_form").is_visible()
    assert _panel_fits(page)
    shoot(page, "sla-admin-policy-preview")

    page.set_viewport_size({"width": 390, "height": 844})
    assert _panel_fits(page)  # fields stack on a phone


def test_errors_show_next_to_their_fields(page_for: Any, shoot: Any) -> None:
    policy = SlaPolicy.objects.get(name=STANDARD_POLICY)
    page = page_for(user=_superuser())
    page.goto(f"/admin/sla/slapolicy/{policy.pk}/change/")
    panel = page.locator("#sla-preview")
    panel.get_by_label("Start", exact=True).fill("2027-03-28T02:30")  # skipped by the spring-forward in Rome
    panel.get_by_label("Pauses (optional)").fill("2027-03-29 10:00")
    panel.get_by_role("button", name="Preview").click()

    start_error = page.locator(".sla-preview-field.errors", has=page.get_by_label("Start", exact=True))
    start_error.locator(".errorlist").wait_for()
    assert "does not exist in Europe/Rome" in start_error.inner_text()
    pauses_error = page.locator(".sla-preview-field.errors", has=page.get_by_label("Pauses (optional)"))
    assert "Line 1: write the start, a slash and the end" in pauses_error.inner_text()
    assert panel.get_by_label("Start", exact=True).get_attribute("aria-invalid") == "true"
    assert page.locator("#preview-due").count() == 0
    shoot(page, "sla-admin-preview-errors")


def test_calendar_page_previews_the_unsaved_definition(page_for: Any, shoot: Any) -> None:
    calendar = BusinessCalendar.objects.get(name=OFFICE_CALENDAR)
    page = page_for(user=_superuser())
    page.goto(f"/admin/sla/businesscalendar/{calendar.pk}/change/")
    # Open at 08:00 on Mondays, typed into the definition but not saved.
    definition = {
        **calendar.definition,
        "weekly": {**calendar.definition["weekly"], "mon": [["08:00", "18:00"]]},
    }
    page.locator("#id_definition").fill(json.dumps(definition))
    panel = page.locator("#sla-preview")
    panel.get_by_label("Start", exact=True).fill("2026-11-20T17:30")
    panel.get_by_label("Business minutes after the start").fill("60")
    panel.get_by_role("button", name="Preview").click()

    due = page.locator("#preview-due")
    due.wait_for()
    assert "Mon 23 Nov 2026, 08:30 CET" in due.inner_text()  # 30 min on Friday, 30 from 08:00 Monday
    assert "not saved yet" in panel.inner_text()
    assert BusinessCalendar.objects.get(pk=calendar.pk).definition["weekly"]["mon"] == [["09:00", "18:00"]]
    shoot(page, "sla-admin-calendar-preview")
