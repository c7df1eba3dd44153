"""SLA presets from the seeds: two calendars, three policies and a default priority matrix."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tessera.accounts.models import Department
from tessera.sla.calendar import Calendar
from tessera.sla.models import BusinessCalendar, PriorityMatrix, SlaPolicy, SlaTarget
from tessera.tickets.models import Channel, Impact, Priority, Urgency

OFFICE_CALENDAR = "Mon-Fri 09:00-18:00 Europe/Rome, IT holidays"
ALWAYS_CALENDAR = "24/7"
STANDARD_POLICY = "Standard"
TECHNICAL_POLICY = "Technical support"
CHAT_POLICY = "Live chat"

HOUR = 60
DAY = 24 * HOUR

# (first response, resolution) in business minutes. The seeds give no Critical for the standard
# policy, so Critical gets High's targets rather than none at all.
STANDARD_TARGETS = {
    "low": (72 * HOUR, 7 * DAY),
    "medium": (24 * HOUR, 72 * HOUR),
    "high": (1 * HOUR, 8 * HOUR),
    "critical": (1 * HOUR, 8 * HOUR),
}
TECHNICAL_RESOLUTION = {"critical": 4 * HOUR, "high": 24 * HOUR, "medium": 48 * HOUR, "low": 72 * HOUR}
TECHNICAL_ACKNOWLEDGE = 60  # "reviewed within one business hour"
CHAT_FIRST_RESPONSE = 10

DEFAULT_MATRIX = {
    Impact.ORGANISATION: {"critical": "critical", "high": "critical", "medium": "high", "low": "medium"},
    Impact.SEVERAL: {"critical": "critical", "high": "high", "medium": "medium", "low": "low"},
    Impact.ONE: {"critical": "high", "high": "medium", "medium": "low", "low": "low"},
}


def office_definition() -> dict[str, Any]:
    return {
        "tz": "Europe/Rome",
        "weekly": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "holiday_country": "IT",
    }


@transaction.atomic
def ensure_sla_reference_data() -> None:
    """Create the preset calendars, policies, targets and matrix if missing (idempotent; never
    overwrites what an admin changed)."""
    office, _ = BusinessCalendar.objects.get_or_create(
        name=OFFICE_CALENDAR, defaults={"definition": Calendar.from_dict(office_definition()).to_dict()}
    )
    always, _ = BusinessCalendar.objects.get_or_create(
        name=ALWAYS_CALENDAR, defaults={"definition": Calendar.always_open("Europe/Rome").to_dict()}
    )
    priorities = {p.slug: p for p in Priority.objects.all()}

    chat, created = SlaPolicy.objects.get_or_create(
        name=CHAT_POLICY, defaults={"order": 10, "channel": Channel.CHAT, "calendar": always}
    )
    if created:
        for priority in priorities.values():
            SlaTarget.objects.create(
                policy=chat, priority=priority, first_response_minutes=CHAT_FIRST_RESPONSE
            )

    technical_dept = Department.objects.filter(slug="technical").first()
    if technical_dept is not None:
        technical, created = SlaPolicy.objects.get_or_create(
            name=TECHNICAL_POLICY, defaults={"order": 20, "department": technical_dept, "calendar": office}
        )
        if created:
            for slug, minutes in TECHNICAL_RESOLUTION.items():
                if slug in priorities:
                    SlaTarget.objects.create(
                        policy=technical,
                        priority=priorities[slug],
                        resolution_minutes=minutes,
                        acknowledge_minutes=TECHNICAL_ACKNOWLEDGE,
                    )

    standard, created = SlaPolicy.objects.get_or_create(
        name=STANDARD_POLICY, defaults={"order": 1000, "calendar": office}
    )
    if created:
        for slug, (first_response, resolution) in STANDARD_TARGETS.items():
            if slug in priorities:
                SlaTarget.objects.create(
                    policy=standard,
                    priority=priorities[slug],
                    first_response_minutes=first_response,
                    next_response_minutes=first_response,
                    resolution_minutes=resolution,
                )

    if PriorityMatrix.objects.exists():
        return  # seeded once: a cell an admin cleared stays cleared
    for impact, row in DEFAULT_MATRIX.items():
        for urgency, slug in row.items():
            if slug in priorities and urgency in Urgency.values:
                PriorityMatrix.objects.get_or_create(
                    impact=impact, urgency=urgency, defaults={"priority": priorities[slug]}
                )
