from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tessera.tickets import services
from tessera.tickets.models import Channel, Message, Status, Ticket, TimelineEvent
from tessera.workspace.models import CannedResponse
from tests import factories

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_sign_in_and_customer_gets_403() -> None:
    assert Client().get("/agent/").status_code == 302
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    client = client_for(carla)
    assert client.get("/agent/").status_code == 403
    assert client.get(f"/agent/tickets/{ticket.pk}/").status_code == 403
    response = client.post(f"/agent/tickets/{ticket.pk}/note", {"body": "sneaky"})
    assert response.status_code == 403
    assert not Message.objects.filter(body="sneaky").exists()


def test_queue_shows_department_tickets_only_to_its_agents() -> None:
    carla = factories.customer("carla")
    tech = factories.ticket(carla, subject="Tech trouble <b>bold</b>", dept="technical")
    factories.ticket(carla, subject="Billing trouble", dept="billing")
    agent = factories.agent("technical")
    page = client_for(agent).get("/agent/q/dept-technical/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Tech trouble &lt;b&gt;bold&lt;/b&gt;" in body
    assert "Billing trouble" not in body
    assert client_for(agent).get("/agent/q/dept-billing/").status_code == 404
    assert client_for(agent).get("/agent/q/open/").content.decode().count("Billing trouble") == 0
    assert client_for(agent).get(f"/agent/tickets/{tech.pk}/").status_code == 200
    billing_ticket = Ticket.objects.get(subject="Billing trouble")
    assert client_for(agent).get(f"/agent/tickets/{billing_ticket.pk}/").status_code == 404


def test_queue_filters_sorting_and_cursor_pagination() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    made = [factories.ticket(carla, subject=f"Row {n:02d}") for n in range(30)]
    services.change_priority(actor=agent, ticket=made[3], priority=factories.priority("critical"), reason="x")
    client = client_for(agent)
    first = client.get("/agent/q/open/")
    assert "Row 29" in first.content.decode() and "Row 04" not in first.content.decode()
    next_url = first.context["next_url"]
    second = client.get(f"/agent/q/open/{next_url}")
    assert "Row 04" in second.content.decode() and "Row 29" not in second.content.decode()
    critical = client.get("/agent/q/open/", {"priority": "critical"})
    assert [t.pk for t in critical.context["rows"]] == [made[3].pk]
    by_priority = client.get("/agent/q/open/", {"sort": "priority"})
    assert by_priority.context["rows"][0].pk == made[3].pk
    text = client.get("/agent/q/open/", {"q": "Row 07"})
    assert made[7].pk in [t.pk for t in text.context["rows"]]
    # Filters in use keep the (on phones folded) filter box open and say how many are active.
    assert "data-active" in text.content.decode() and "1 active" in text.content.decode()
    assert "data-active" not in first.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"priority": "nope"},
        {"assignee": "x"},
        {"sort": "drop"},
        {"channel": "<x>"},
        {"sla": "?"},
        {"cursor": "@@@"},
        {"q": "x" * 300},
        {"tag": "a\x00b"},
        {"department": "tech\x00"},
    ],
)
def test_bad_queue_parameters_are_a_clear_error(params: dict[str, str]) -> None:
    agent = factories.agent("technical")
    response = client_for(agent).get("/agent/q/open/", params)
    assert response.status_code == 422
    assert response.context["error"] is not None


def test_counts_are_bounded(settings: Any) -> None:
    from tessera.workspace import queries

    carla = factories.customer("carla")
    agent = factories.agent("technical")
    for n in range(5):
        factories.ticket(carla, subject=f"T{n}")
    assert queries.bounded_count(queries.queue_tickets(agent, "open"), cap=3) == 3
    assert queries.count_label(3, cap=3) == "2+"
    assert queries.queue_counts(agent)["open"] == "5"
    page = client_for(agent).get("/agent/counts")
    assert 'data-queue-count="open">5<' in page.content.decode()
    # A page leaves the counts to the sidebar, which fetches them as soon as it loads.
    queue = client_for(agent).get("/agent/q/open/").content.decode()
    assert 'data-queue-count="open"><' in queue and 'hx-trigger="load, every 20s' in queue


def _queries(client: Client, url: str) -> int:
    client.get(url)  # the first request also fills the process's cache of reference rows
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_queue_and_ticket_pages_make_as_many_queries_for_many_rows_as_for_few() -> None:
    """Rows with their own requesters, assignees, priorities and SLA clocks, and a long conversation by
    several authors, add no query: related rows are joined or prefetched, counts are bounded."""
    lead = factories.agent("technical", name="lead")
    client = client_for(lead)
    pages = ["/agent/", "/agent/q/open/", "/agent/q/dept-technical/", "/agent/q/open/?sort=due"]

    def ticket_with_conversation(replies: int) -> Ticket:
        ticket = factories.ticket(factories.customer("carla"), prio="high")
        for n in range(replies):
            author = factories.agent("technical", name=f"helper{n}")
            services.add_reply(actor=author, ticket=ticket, body=f"Reply {n}")
            services.add_note(actor=author, ticket=ticket, body=f"Note {n}")
        ticket = Ticket.objects.get(pk=ticket.pk)
        if ticket.assignee_id != lead.pk:
            services.assign_ticket(actor=lead, ticket=ticket, assignee=lead)
        return Ticket.objects.get(pk=ticket.pk)

    few = ticket_with_conversation(1)
    before = {url: _queries(client, url) for url in pages}
    ticket_before = _queries(client, f"/agent/tickets/{few.pk}/")
    many = [ticket_with_conversation(0) for _ in range(6)] + [ticket_with_conversation(6)]
    for n, ticket in enumerate(many[:3]):  # rows with other assignees
        other = factories.agent("technical", name=f"other{n}")
        services.assign_ticket(actor=lead, ticket=Ticket.objects.get(pk=ticket.pk), assignee=other)
    assert {url: _queries(client, url) for url in pages} == before
    assert _queries(client, f"/agent/tickets/{many[-1].pk}/") == ticket_before


def test_ticket_view_shows_timeline_and_notes_distinctly() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical", name="tomasz")
    ticket = factories.ticket(carla, subject="Disk full", files=[])
    services.add_reply(actor=agent, ticket=ticket, body="Which server?")
    services.add_note(actor=agent, ticket=ticket, body="<script>alert(1)</script> internal")
    services.transition_ticket(actor=agent, ticket=ticket, status=Status.WAITING, reason="Send the hostname")
    body = client_for(agent).get(f"/agent/tickets/{ticket.pk}/").content.decode()
    assert "Which server?" in body
    assert "ws-entry-note" in body and "&lt;script&gt;alert(1)&lt;/script&gt; internal" in body
    assert "<script>alert(1)" not in body
    assert "Send the hostname" in body and "changed the status from Open to Waiting on customer" in body


def _post(client: Client, ticket: Ticket, action: str, **data: Any) -> Any:
    return client.post(f"/agent/tickets/{ticket.pk}/{action}", data)


def test_reply_with_stale_version_is_a_conflict_and_nothing_is_saved() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    other = factories.agent("technical")
    ticket = factories.ticket(carla)
    read_version = Ticket.objects.get(pk=ticket.pk).version
    services.add_reply(actor=other, ticket=ticket, body="I got this one")
    response = _post(client_for(agent), ticket, "reply", body="My late answer", version=read_version)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not sent: someone changed this ticket first." in page
    assert "My late answer</textarea>" in page  # the draft is kept
    assert "I got this one" in page  # and the timeline is fresh
    assert not Message.objects.filter(body="My late answer").exists()


def test_actions_change_the_ticket_and_bad_input_changes_nothing() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    events_before = TimelineEvent.objects.filter(ticket=ticket).count()
    client = client_for(agent)

    def version() -> int:
        return Ticket.objects.get(pk=ticket.pk).version

    assert _post(client, ticket, "priority", priority="high", reason="", version=version()).status_code == 422
    assert _post(client, ticket, "priority", priority="zzz", reason="x", version=version()).status_code == 422
    assert _post(client, ticket, "status", status="waiting", reason="", version=version()).status_code == 422
    assert _post(client, ticket, "reply", body="", version=version()).status_code == 422
    assert _post(client, ticket, "reply", body="hi", version="abc").status_code == 422
    assert _post(client, ticket, "merge", target="T-999999").status_code == 422
    assert _post(client, ticket, "assignee", assignee="12345678", version=version()).status_code == 422
    assert _post(client, ticket, "explode").status_code == 404
    ticket.refresh_from_db()
    assert ticket.priority.slug == "medium" and ticket.status == Status.NEW
    assert TimelineEvent.objects.filter(ticket=ticket).count() == events_before

    assert (
        _post(client, ticket, "priority", priority="high", reason="Outage", version=version()).status_code
        == 302
    )
    assert (
        _post(client, ticket, "status", status="waiting", reason="Which VPS?", version=version()).status_code
        == 302
    )
    assert _post(client, ticket, "assignee", assignee="none", version=version()).status_code == 302
    assert _post(client, ticket, "assignee", assignee=str(agent.pk), version=version()).status_code == 302
    assert _post(client, ticket, "tags", tags="vps, urgent").status_code == 302
    assert _post(client, ticket, "note", body="checked the logs").status_code == 302
    assert _post(client, ticket, "department", department="billing", version=version()).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority.slug == "high" and ticket.status == Status.WAITING
    assert ticket.department.slug == "billing"
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["urgent", "vps"]
    event = TimelineEvent.objects.get(ticket=ticket, kind="priority_changed")
    assert event.reason == "Outage" and event.actor == agent


def test_merge_from_the_ticket_view() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    source, target = factories.ticket(carla), factories.ticket(carla)
    response = _post(client_for(agent), source, "merge", target=target.reference)
    assert response.status_code == 302 and response["Location"].startswith(f"/agent/tickets/{target.pk}/")
    source.refresh_from_db()
    assert source.merged_into_id == target.pk and source.status == Status.CLOSED


def test_split_a_reply_into_a_new_ticket() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Two problems")
    reply = services.add_reply(actor=carla, ticket=ticket, body="Also my mailbox is full")
    note = services.add_note(actor=agent, ticket=ticket, body="secret")
    client = client_for(agent)
    assert _post(client, ticket, "split", message=note.pk, subject="x").status_code == 422
    response = _post(client, ticket, "split", message=reply.pk, subject="Mailbox full")
    assert response.status_code == 302
    new = Ticket.objects.get(subject="Mailbox full")
    assert new.requester == carla and new.description == "Also my mailbox is full"
    assert new.submitted_by == agent and new.department_id == ticket.department_id
    assert Message.objects.filter(ticket=new, kind="note", body__contains=ticket.reference).exists()
    assert Message.objects.filter(ticket=ticket, kind="note", body__contains=new.reference).exists()


def test_canned_response_picker_fills_placeholders_as_text() -> None:
    carla = factories.customer("<b>carla</b> rossi")
    agent = factories.agent("technical", name="tomasz")
    ticket = factories.ticket(carla)
    canned = CannedResponse.objects.create(
        title="Hello",
        body="Hi {{ requester first name }}, {{ agent name }} here about {{ticket reference}}. {{ x }}",
    )
    billing_only = CannedResponse.objects.create(
        title="Billing", body="b", department=factories.department("billing")
    )
    client = client_for(agent)
    page = client.get(f"/agent/tickets/{ticket.pk}/")
    assert b"Hello" in page.content and b">Billing<" not in page.content
    response = client.get(f"/agent/tickets/{ticket.pk}/canned", {"canned": canned.pk, "body": "Draft"})
    text = response.content.decode()
    assert f"Draft\n\nHi &lt;B&gt;Carla&lt;/B&gt;, Tomasz here about {ticket.reference}. {{{{ x }}}}" in text
    assert client.get(f"/agent/tickets/{ticket.pk}/canned", {"canned": billing_only.pk}).status_code == 404


def test_log_a_phone_call() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    client = client_for(agent)
    found = client.get("/agent/contacts", {"contact_q": "carl"})
    assert carla.email in found.content.decode()
    assert agent.email not in client.get("/agent/contacts", {"contact_q": "agent"}).content.decode()
    bad = client.post(
        "/agent/phone", {"contact": carla.pk, "department": "technical", "subject": "", "description": "x"}
    )
    assert bad.status_code == 422 and not Ticket.objects.exists()
    assert client.post("/agent/phone", {"subject": "a", "description": "b"}).status_code == 422
    response = client.post(
        "/agent/phone",
        {
            "contact": carla.pk,
            "department": "technical",
            "priority": "high",
            "subject": "Called about VPS",
            "description": "Customer says the VPS reboots.",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.PHONE and ticket.requester == carla and ticket.submitted_by == agent
    assert ticket.priority.slug == "high"


def test_bulk_actions_report_per_ticket_failures() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ok = factories.ticket(carla)
    closed = factories.ticket(carla)
    services.transition_ticket(actor=agent, ticket=closed, status=Status.CLOSED)
    hidden = factories.ticket(carla, dept="billing")
    client = client_for(agent)
    response = client.post(
        "/agent/bulk", {"action": "status", "status": "resolved", "ids": [ok.pk, closed.pk, hidden.pk]}
    )
    assert response.status_code == 200
    outcomes = {o.ticket_id: o for o in response.context["outcomes"]}
    assert outcomes[ok.pk].ok
    assert not outcomes[closed.pk].ok and "cannot be moved" in outcomes[closed.pk].message
    assert not outcomes[hidden.pk].ok and outcomes[hidden.pk].reference == f"#{hidden.pk}"
    assert Ticket.objects.get(pk=ok.pk).status == Status.RESOLVED
    assert Ticket.objects.get(pk=hidden.pk).status == Status.NEW

    response = client.post(
        "/agent/bulk", {"action": "tag", "tag": "batch", "ids": [ok.pk]}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Trigger"] == "queue-changed"
    assert list(Ticket.objects.get(pk=ok.pk).tags.values_list("name", flat=True)) == ["batch"]
    response = client.post("/agent/bulk", {"action": "assign", "assignee": "me", "ids": [ok.pk]})
    assert Ticket.objects.get(pk=ok.pk).assignee == agent

    a, b, target = factories.ticket(carla), factories.ticket(carla), factories.ticket(carla)
    response = client.post("/agent/bulk", {"action": "merge", "target": str(target.pk), "ids": [a.pk, b.pk]})
    assert all(o.ok for o in response.context["outcomes"])
    assert Ticket.objects.filter(merged_into=target).count() == 2

    assert (
        client.post("/agent/bulk", {"action": "status", "status": "bogus", "ids": [ok.pk]}).status_code == 422
    )
    assert client.post("/agent/bulk", {"action": "status", "status": "open"}).status_code == 422
    assert client.post("/agent/bulk", {"action": "nuke", "ids": [ok.pk]}).status_code == 422
    assert client.post("/agent/bulk", {"action": "merge", "target": "zz", "ids": [ok.pk]}).status_code == 422


def test_search_page_respects_permissions() -> None:
    carla = factories.customer("carla")
    factories.ticket(carla, subject="Gearbox noise", dept="billing")
    tech_ticket = factories.ticket(carla, subject="Gearbox smoke", dept="technical")
    agent = factories.agent("technical")
    response = client_for(agent).get("/agent/search", {"q": "gearbox"})
    assert [t.pk for t in response.context["rows"]] == [tech_ticket.pk]
    assert client_for(agent).get("/agent/search", {"q": "y" * 500}).status_code == 422


def test_ticket_view_tells_the_agent_when_the_requesters_email_bounces() -> None:
    from tessera.mail.tracking import mark_undeliverable

    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    agent = factories.agent("technical")
    client = Client()
    client.force_login(agent)
    assert "bounces" not in client.get(f"/agent/tickets/{ticket.pk}/").content.decode()

    mark_undeliverable(carla.email, "550 <mailbox> unknown")
    page = client.get(f"/agent/tickets/{ticket.pk}/").content.decode()
    assert f"Email to {carla.email} bounces" in page
    assert "550 &lt;mailbox&gt; unknown" in page  # the provider's text is escaped
