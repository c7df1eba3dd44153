"""The status page: posting (and refusing bad input), the public page and its cache, feeds, API, uptime bars,
maintenance sweep, and tickets linked to incidents."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from tessera.core import clock
from tessera.core.errors import PermissionDenied, ValidationFailed
from tessera.status import services
from tessera.status.models import Announcement, Component, Incident, Maintenance, StateChange
from tessera.status.uptime import day_bars
from tessera.tickets.models import Message
from tests import factories
from tests.status.helpers import component

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def _future(hours: float) -> datetime:
    return clock.now() + timedelta(hours=hours)


def test_window_ending_before_it_starts_is_refused_and_nothing_is_written(
    api_as: Callable[[Any], Any],
) -> None:
    agent = factories.agent()
    frankfurt = component()
    with pytest.raises(ValidationFailed) as refused:
        services.schedule_maintenance(
            actor=agent,
            title="Swap",
            description="",
            starts_at=_future(3),
            ends_at=_future(2),
            components=[frankfurt],
        )
    assert refused.value.field == "ends_at"
    response = api_as(agent).post(
        "/status/maintenance",
        {
            "title": "Swap",
            "starts_at": _future(3).isoformat(),
            "ends_at": _future(2).isoformat(),
            "components": [frankfurt.pk],
        },
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "ends_at"
    assert not Maintenance.objects.exists()
    assert not Announcement.objects.exists()


def test_unknown_component_is_refused_and_nothing_is_written(api_as: Callable[[Any], Any]) -> None:
    agent = factories.agent()
    frankfurt = component()
    for components in ([frankfurt.pk, 999_999], ["Dedicated servers / Tokyo"]):
        response = api_as(agent).post(
            "/status/incidents", {"title": "Down", "body": "b", "components": components}
        )
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["field"] == "components"
    assert not Incident.objects.exists()
    frankfurt.refresh_from_db()
    assert frankfurt.state == "operational"


def test_customers_cannot_post_and_anonymous_cannot_either(api_as: Callable[[Any], Any]) -> None:
    frankfurt = component()
    body = {"title": "Down", "body": "b", "components": [frankfurt.pk]}
    assert api_as(factories.customer()).post("/status/incidents", body).status_code == 403
    assert api_as(None).post("/status/incidents", body).status_code == 401
    with pytest.raises(PermissionDenied):
        services.post_incident(actor=factories.customer(), title="x", body="y", components=[frankfurt])
    assert not Incident.objects.exists()


def test_public_api_shows_state_incidents_and_maintenance(api_as: Callable[[Any], Any]) -> None:
    agent = factories.agent()
    frankfurt = component()
    hidden = component(name="Internal")
    Component.objects.filter(pk=hidden.pk).update(is_public=False)
    created = api_as(agent).post(
        "/status/incidents",
        {
            "title": "Packet loss",
            "body": "Investigating",
            "components": ["dedicated servers / frankfurt"],
            "component_state": "partial_outage",
            "impact": "major",
        },
    )
    assert created.status_code == 201, created.content
    incident_id = created.json()["id"]
    api_as(agent).post(
        "/status/maintenance",
        {
            "title": "Upgrade",
            "starts_at": _future(24).isoformat(),
            "ends_at": _future(26).isoformat(),
            "components": [frankfurt.pk],
        },
    )
    summary = api_as(None).get("/status/summary").json()
    assert summary["state"] == "partial_outage"
    assert [c["name"] for g in summary["groups"] for c in g["components"]] == ["Frankfurt"]
    assert summary["incidents"][0]["id"] == incident_id
    assert summary["maintenance"][0]["title"] == "Upgrade"
    update = api_as(agent).post(
        f"/status/incidents/{incident_id}/updates", {"status": "resolved", "body": "Fixed"}
    )
    assert update.status_code == 201
    assert [u["status"] for u in update.json()["updates"]] == ["resolved", "investigating"]
    assert api_as(None).get("/status/summary").json()["state"] == "operational"
    assert api_as(None).get(f"/status/incidents/{incident_id}").json()["resolved_at"] is not None
    assert api_as(None).get("/status/incidents").json()["items"][0]["id"] == incident_id
    assert api_as(None).get("/status/maintenance").json()[0]["title"] == "Upgrade"
    again = api_as(agent).post(
        f"/status/incidents/{incident_id}/updates", {"status": "monitoring", "body": "x"}
    )
    assert again.status_code == 409


def test_page_is_public_escaped_cached_and_invalidated_on_change(
    client: Any, django_assert_max_num_queries: Any
) -> None:
    agent = factories.agent()
    frankfurt = component()
    services.post_incident(
        actor=agent, title="<script>alert(1)</script>", body="Investigating", components=[frankfurt]
    )
    first = client.get("/status/")
    assert first.status_code == 200
    html = first.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "Major outage" in html
    assert 'role="img"' in html and "uptime" in html
    with django_assert_max_num_queries(3):  # session-less visitor: the revision, and nothing else of ours
        assert client.get("/status/").content == first.content  # one copy for all anonymous visitors
    services.set_component_state(actor=agent, component=frankfurt, state="degraded")
    assert "Degraded performance" in client.get("/status/").content.decode()


def test_page_shows_times_in_the_viewers_zone(client: Any) -> None:
    agent = factories.agent()
    frankfurt = component()
    start = datetime(2099, 1, 10, 9, 0, tzinfo=UTC)
    services.schedule_maintenance(
        actor=agent,
        title="Upgrade",
        description="",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        components=[frankfurt],
    )
    client.cookies["tessera_tz"] = "Asia/Tokyo"
    html = client.get("/status/").content.decode()
    window = html[html.index("status-window") :][:400]
    assert "Asia/Tokyo" in html and "JST" in window and "6 p.m." in window, window
    client.cookies["tessera_tz"] = "Not/AZone"
    assert "UTC" in client.get("/status/").content.decode()


def test_feeds_parse(client: Any) -> None:
    agent = factories.agent()
    frankfurt = component()
    incident = services.post_incident(
        actor=agent, title="Power & cooling", body="<b>hot</b>", components=[frankfurt]
    )
    window = services.schedule_maintenance(
        actor=agent,
        title="Upgrade",
        description="Routers",
        starts_at=_future(5),
        ends_at=_future(7),
        components=[frankfurt],
    )
    services.reschedule_maintenance(actor=agent, maintenance=window, starts_at=_future(6), ends_at=_future(8))
    atom = client.get("/status/feed.atom")
    assert atom.status_code == 200 and atom["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(atom.content)  # noqa: S314 - our own feed, parsed to prove it is well-formed
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert "Power & cooling: Investigating" in titles
    assert "Planned maintenance: Upgrade" in titles
    assert any(e.findtext(f"{ATOM}summary") == "<b>hot</b>" for e in root.iter(f"{ATOM}entry"))
    ics = client.get("/status/maintenance.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(ics.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    window.refresh_from_db()
    assert events[0].decoded("dtstart") == window.starts_at.replace(microsecond=0)
    assert events[0].decoded("dtend") == window.ends_at.replace(microsecond=0)
    assert str(events[0]["summary"]) == "Upgrade"
    assert int(events[0]["sequence"]) == 1
    assert "Dedicated servers / Frankfurt" in str(events[0]["description"])
    single = icalendar.Calendar.from_ical(client.get(f"/status/maintenance/{window.pk}.ics").content)
    assert len(single.walk("VEVENT")) == 1
    assert client.get(f"/status/incidents/{incident.pk}").status_code == 200
    assert client.get("/status/incidents/999999").status_code == 404


def test_uptime_bar_from_state_history() -> None:
    zone = ZoneInfo("Europe/Rome")
    now = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    day = timedelta(days=1)
    changes = [
        (now - 200 * day, "operational"),
        (datetime(2026, 3, 30, 10, 0, tzinfo=UTC), "major_outage"),
        (datetime(2026, 3, 30, 11, 12, tzinfo=UTC), "degraded"),
        (datetime(2026, 3, 30, 12, 0, tzinfo=UTC), "operational"),
    ]
    bar = day_bars(changes, now=now, zone=zone)
    assert len(bar.days) == 90
    assert bar.days[-1].day.isoformat() == "2026-03-31"
    outage = bar.days[-2]
    assert outage.worst == "major_outage"
    assert outage.down_seconds == 72 * 60
    assert outage.uptime_pct == pytest.approx(100 * (1 - 72 / 1440))
    assert [d.worst for d in bar.days[:-2]] == ["operational"] * 88
    fresh = day_bars([(now - 2 * day, "operational")], now=now, zone=zone)
    assert fresh.days[0].worst is None and fresh.days[0].uptime is None
    assert fresh.uptime == 1


def test_maintenance_sweep_starts_and_completes_windows() -> None:
    agent = factories.agent()
    frankfurt = component()
    window = services.schedule_maintenance(
        actor=agent,
        title="Now",
        description="",
        starts_at=_future(-0.1),
        ends_at=_future(1),
        components=[frankfurt],
    )
    window.refresh_from_db()
    frankfurt.refresh_from_db()
    assert window.status == "in_progress" and frankfurt.state == "maintenance"
    assert services.start_due_maintenance(_future(2)) == 1
    window.refresh_from_db()
    frankfurt.refresh_from_db()
    assert window.status == "completed" and frankfurt.state == "operational"
    assert list(StateChange.objects.filter(component=frankfurt).values_list("state", flat=True)) == [
        "operational",
        "maintenance",
        "operational",
    ]


def test_resolving_an_incident_answers_and_resolves_linked_tickets(api_as: Callable[[Any], Any]) -> None:
    agent = factories.agent("technical")
    frankfurt = component()
    incident = services.post_incident(
        actor=agent, title="Down", body="b", components=[frankfurt], notify=False
    )
    carla = factories.customer()
    open_ticket = factories.ticket(carla, subject="Server down")
    closed = factories.ticket(carla, subject="Closed one")
    from tessera.tickets.services import transition_ticket

    transition_ticket(actor=agent, ticket=closed, status="closed")
    other_dept = factories.ticket(carla, dept="billing", subject="Billing")
    api = api_as(agent)
    assert (
        api.post(f"/status/incidents/{incident.pk}/tickets", {"ticket_id": open_ticket.pk}).status_code == 201
    )
    assert api.post(f"/status/incidents/{incident.pk}/tickets", {"ticket_id": closed.pk}).status_code == 201
    # A ticket of another department is invisible to this agent: 404, not linked.
    assert (
        api.post(f"/status/incidents/{incident.pk}/tickets", {"ticket_id": other_dept.pk}).status_code == 404
    )
    assert (
        api_as(carla)
        .post(f"/status/incidents/{incident.pk}/tickets", {"ticket_id": open_ticket.pk})
        .status_code
        == 403
    )
    # An admin links it; then this agent's answer fails for that one ticket only.
    services.link_ticket(actor=factories.admin(), incident=incident, ticket=other_dept)
    assert len(api.get(f"/status/incidents/{incident.pk}/tickets").json()) == 3
    outcomes = api.post(
        f"/status/incidents/{incident.pk}/answer-tickets", {"body": "The outage is over.", "resolve": True}
    ).json()
    by_id = {o["ticket_id"]: o for o in outcomes}
    assert by_id[open_ticket.pk]["ok"] and by_id[open_ticket.pk]["resolved"]
    assert by_id[closed.pk]["ok"] and not by_id[closed.pk]["replied"]
    assert not by_id[other_dept.pk]["ok"] and by_id[other_dept.pk]["error"]
    open_ticket.refresh_from_db()
    assert open_ticket.status == "resolved"
    assert Message.objects.filter(ticket=open_ticket, body="The outage is over.", kind="reply").count() == 1
    assert not Message.objects.filter(ticket=other_dept, body="The outage is over.").exists()
    assert api.delete(f"/status/incidents/{incident.pk}/tickets/{open_ticket.pk}").status_code == 204


def test_manage_pages_are_for_agents_and_post_through_services(client: Any) -> None:
    frankfurt = component()
    customer = factories.customer()
    client.force_login(customer, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/status/manage/").status_code == 404
    agent = factories.agent()
    client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/status/manage/").status_code == 200
    response = client.post(
        "/status/manage/incidents/new",
        {
            "title": "Down",
            "impact": "major",
            "status": "investigating",
            "components": [frankfurt.pk],
            "component_state": "major_outage",
            "body": "Looking",
            "notify": "on",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert Announcement.objects.filter(incident=incident).count() == 1
    bad = client.post(
        "/status/manage/maintenance/new",
        {
            "title": "W",
            "starts_at": "2099-01-02T10:00",
            "ends_at": "2099-01-02T09:00",
            "components": [frankfurt.pk],
        },
    )
    assert bad.status_code == 422
    assert "must end after it starts" in bad.content.decode()
    assert not Maintenance.objects.exists()
    page = client.post(
        f"/status/manage/incidents/{incident.pk}", {"action": "update", "status": "resolved", "body": "ok"}
    )
    assert page.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved"
