"""The seeds' SLA presets and the impact x urgency matrix."""

from __future__ import annotations

import pytest

from tessera.demo import ensure_reference_data
from tessera.sla.models import BusinessCalendar, PriorityMatrix, SlaPolicy, SlaTarget
from tessera.sla.services import priority_for

pytestmark = pytest.mark.django_db


def test_presets_are_idempotent() -> None:
    counts = (BusinessCalendar.objects.count(), SlaPolicy.objects.count(), SlaTarget.objects.count())
    ensure_reference_data()
    ensure_reference_data()
    assert counts == (BusinessCalendar.objects.count(), SlaPolicy.objects.count(), SlaTarget.objects.count())
    assert counts == (2, 3, 12)
    assert PriorityMatrix.objects.count() == 12


def test_stored_calendars_are_valid() -> None:
    for calendar in BusinessCalendar.objects.all():
        calendar.full_clean()
        assert calendar.as_calendar() is not None


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [
        ("organisation", "critical", "critical"),
        ("several", "medium", "medium"),
        ("one", "critical", "high"),
        ("one", "low", "low"),
        ("", "low", None),
    ],
)
def test_matrix_maps_impact_and_urgency(impact: str, urgency: str, expected: str | None) -> None:
    priority = priority_for(impact, urgency)
    assert (priority.slug if priority else None) == expected


@pytest.mark.django_db
def test_impact_and_urgency_answers_set_the_priority_through_the_matrix() -> None:
    from tessera.tickets import services
    from tests import factories as f

    def open_with(impact: str, urgency: str) -> str:
        customer = f.customer()
        ticket = services.create_ticket(
            actor=customer,
            data=services.NewTicket(
                subject="s",
                description="d",
                department=f.department("billing"),
                impact=impact,
                urgency=urgency,
            ),
        )
        return ticket.priority.slug

    assert open_with("organisation", "critical") == "critical"
    assert open_with("one", "medium") == "low"
    assert open_with("several", "high") == "high"
