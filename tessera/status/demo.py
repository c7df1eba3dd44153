"""Demo data for the status page and customer services: components, a past incident, a planned maintenance,
and services for the demo customer."""

from __future__ import annotations

from datetime import timedelta

from tessera.accounts.models import User
from tessera.catalog.models import CustomerService
from tessera.catalog.services import ServiceData, create_service
from tessera.core import clock
from tessera.status import services
from tessera.status.models import Component, ComponentState, Incident, IncidentUpdate, StateChange

COMPONENTS = (
    ("Dedicated servers", "Frankfurt", "FRA1 data centre"),
    ("Dedicated servers", "Amsterdam", "AMS2 data centre"),
    ("VPS", "Milano", "MIL1 data centre"),
    ("VPS", "Warsaw", "WAW1 data centre"),
    ("Network", "Backbone", "Transit and peering"),
    ("Client area", "Website and API", ""),
)


def load_status_demo(admin: User, customer: User) -> None:
    """Idempotent enough for `tessera demo`: does nothing when components exist."""
    if Component.objects.exists():
        return
    now = clock.now()
    made = {
        f"{group} / {name}": services.create_component(
            actor=admin, group=group, name=name, description=description, order=index
        )
        for index, (group, name, description) in enumerate(COMPONENTS)
    }
    # Demo only: the components have been watched for 90 days, so the uptime bars are full.
    StateChange.objects.filter(component__in=made.values()).update(at=now - timedelta(days=95))
    Component.objects.filter(pk__in=[c.pk for c in made.values()]).update(created_at=now - timedelta(days=95))

    milano = made["VPS / Milano"]
    incident = services.post_incident(
        actor=admin,
        title="Packet loss on VPS Milano",
        body="We are investigating packet loss affecting some VPS in Milano.",
        components=[milano],
        impact="major",
        component_state=ComponentState.PARTIAL_OUTAGE,
        notify=False,
    )
    services.post_incident_update(
        actor=admin,
        incident=incident,
        status="resolved",
        body="A faulty switch line card was replaced; traffic is normal again.",
        notify=False,
    )
    # Demo only: the incident happened twelve days ago and lasted 95 minutes.
    started = now - timedelta(days=12, hours=3)
    ended = started + timedelta(minutes=95)
    Incident.objects.filter(pk=incident.pk).update(started_at=started, resolved_at=ended, updated_at=ended)
    updates = list(IncidentUpdate.objects.filter(incident=incident).order_by("id"))
    IncidentUpdate.objects.filter(pk=updates[0].pk).update(created_at=started)
    IncidentUpdate.objects.filter(pk=updates[-1].pk).update(created_at=ended)
    changes = list(StateChange.objects.filter(component=milano).order_by("id"))
    StateChange.objects.filter(pk=changes[-2].pk).update(at=started)
    StateChange.objects.filter(pk=changes[-1].pk).update(at=ended)

    services.schedule_maintenance(
        actor=admin,
        title="Network upgrade in Frankfurt",
        description="Core routers are upgraded; expect up to 5 minutes of reduced connectivity.",
        starts_at=now + timedelta(days=3),
        ends_at=now + timedelta(days=3, hours=2),
        components=[made["Dedicated servers / Frankfurt"], made["Network / Backbone"]],
        notify=False,
    )
    if not CustomerService.objects.filter(user=customer).exists():
        create_service(
            actor=admin,
            data=ServiceData(
                name="VPS Milano 2",
                user=customer,
                order_number="123456",
                ip_addresses=["203.0.113.10"],
                component=milano,
            ),
        )
        create_service(
            actor=admin,
            data=ServiceData(
                name="Dedicated server DS-8",
                user=customer,
                organisation=customer.organisation,
                order_number="123789",
                ip_addresses=["198.51.100.20", "2001:db8::20"],
                component=made["Dedicated servers / Frankfurt"],
            ),
        )
    services.bump_revision()
