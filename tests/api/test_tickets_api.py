from __future__ import annotations

import json
from typing import Any

import pytest

from tessera.tickets.models import Message, Status, Ticket, TimelineEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, int, int]:
    return Ticket.objects.count(), TimelineEvent.objects.count(), Message.objects.count()


def test_customer_opens_ticket_through_api(api_as: Any) -> None:
    customer = f.customer()
    response = api_as(customer).post(
        "/tickets",
        {"subject": "VPN down", "description": "No tunnel", "department": "technical", "priority": "high"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject"] == "VPN down" and body["status"] == "new" and body["channel"] == "api"
    assert body["reference"] == f"TS-{body['id']}"
    assert body["requester"]["id"] == customer.pk and body["priority"] == "high"
    assert [e["kind"] for e in body["timeline"]] == ["created"]


@pytest.mark.parametrize("who", ["customer", "agent"])
def test_creation_answers_what_a_later_read_of_the_ticket_shows(api_as: Any, who: str) -> None:
    # The 201 is built from what creation wrote (no re-read): it must match the stored ticket exactly,
    # including the private routing event hidden from the customer.
    routed_to = f.agent("technical")
    author = f.customer() if who == "customer" else f.agent("technical")
    api = api_as(author)
    body = {"subject": "Disk full", "description": "Again", "department": "technical"}
    if who == "agent":
        body["requester_id"] = f.customer().pk
    created = api.post("/tickets", body)
    assert created.status_code == 201, created.content
    stored = api.get(f"/tickets/{created.json()['id']}")
    assert created.json() == stored.json()
    kinds = [e["kind"] for e in created.json()["timeline"]]
    assert kinds == (["created"] if who == "customer" else ["created", "assigned"])
    assert Ticket.objects.get(pk=created.json()["id"]).assignee_id in (routed_to.pk, author.pk)


def test_a_routed_ticket_is_created_with_a_fixed_handful_of_reads(api_as: Any) -> None:
    """The token with its user and the routing candidates before the transaction; inside it the CC
    contacts (once, for every listener), the chosen agent and their email preferences for the
    notification; then the timeline and the people the response shows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tessera.mail.models import OutboundEmail
    from tessera.notifications import services
    from tessera.notifications.models import EmailPreferences, Notification

    routed_to = f.agent("technical")
    EmailPreferences.objects.create(user=routed_to, muted=[])
    api = api_as(f.customer())
    body = {"subject": "Disk full", "description": "Again", "department": "technical"}
    # The first loads the per-process copies of departments, priorities, required fields and SLA policies.
    assert api.post("/tickets", body).status_code == 201
    with CaptureQueriesContext(connection) as done:
        created = api.post("/tickets", body)
    assert created.status_code == 201, created.content
    assert created.json()["assignee"] == {
        "id": routed_to.pk,
        "email": routed_to.email,
        "name": routed_to.display_name,
    }
    reads = [q["sql"] for q in done.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == 7, "\n".join(r[:150] for r in reads)
    assert "accounts_apitoken" in reads[0] and "accounts_user" in reads[0]
    assert "accounts_membership" in reads[1] and "tickets_ticket_cc" in reads[2]
    assert "notifications_emailpreferences" in reads[4] and "tickets_timelineevent" in reads[5]
    notification = Notification.objects.get(user=routed_to, ticket_id=created.json()["id"])
    assigned = TimelineEvent.objects.get(ticket_id=created.json()["id"], kind="assigned")
    copy = services.email_dedupe_key(routed_to, f"event:{assigned.pk}")
    assert OutboundEmail.objects.filter(dedupe_key=copy).exists()
    assert notification.kind == "ticket_assigned"

    # Muted assignment emails are honoured: in-app only.
    EmailPreferences.objects.filter(user=routed_to).update(muted=["assignments"])
    again = api.post("/tickets", body)
    assert again.json()["assignee"]["id"] == routed_to.pk
    assert Notification.objects.filter(user=routed_to, ticket_id=again.json()["id"]).exists()
    assigned = TimelineEvent.objects.get(ticket_id=again.json()["id"], kind="assigned")
    copy = services.email_dedupe_key(routed_to, f"event:{assigned.pk}")
    assert not OutboundEmail.objects.filter(dedupe_key=copy).exists()


def test_customer_files_on_behalf_of_colleague_but_not_of_stranger(api_as: Any) -> None:
    org = f.organisation("Colleagues Inc")
    me, colleague, stranger = f.customer(org=org), f.customer(org=org), f.customer()
    api = api_as(me)
    ok = api.post(
        "/tickets",
        {"subject": "For Anna", "description": "x", "department": "billing", "requester_id": colleague.pk},
    )
    assert ok.status_code == 201
    assert ok.json()["requester"]["id"] == colleague.pk and ok.json()["submitted_by"]["id"] == me.pk
    refused = api.post(
        "/tickets",
        {
            "subject": "For a stranger",
            "description": "x",
            "department": "billing",
            "requester_id": stranger.pk,
        },
    )
    assert refused.status_code == 404  # a contact outside my organisation does not exist for me


def test_agent_logs_phone_call_for_contact(api_as: Any) -> None:
    agent = f.agent()
    contact = f.customer()
    response = api_as(agent).post(
        "/tickets",
        {
            "subject": "Called about DNS",
            "description": "Per phone",
            "department": "technical",
            "requester_id": contact.pk,
            "channel": "phone",
        },
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert (ticket.channel, ticket.requester_id, ticket.submitted_by_id) == ("phone", contact.pk, agent.pk)
    contact_view = api_as(contact).get(f"/tickets/{ticket.pk}")
    assert contact_view.status_code == 200


def test_customer_cannot_pick_channel(api_as: Any) -> None:
    response = api_as(f.customer()).post(
        "/tickets", {"subject": "s", "description": "d", "department": "technical", "channel": "phone"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "channel"


def test_customer_fetching_another_customers_ticket_gets_404(api_as: Any) -> None:
    ticket = f.ticket(f.customer())
    response = api_as(f.customer()).get(f"/tickets/{ticket.pk}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_agent_outside_department_gets_404(api_as: Any) -> None:
    ticket = f.ticket(f.customer(), dept="technical")
    billing_agent = f.agent("billing")
    api = api_as(billing_agent)
    assert api.get(f"/tickets/{ticket.pk}").status_code == 404
    assert api.post(f"/tickets/{ticket.pk}/notes", {"body": "sneaky"}).status_code == 404
    assert ticket.pk not in [t["id"] for t in api.get("/tickets").json()["items"]]


def test_organisation_manager_sees_colleagues_tickets(api_as: Any) -> None:
    org = f.organisation("Managed")
    manager, member, outsider = f.customer(org=org, manager=True), f.customer(org=org), f.customer()
    theirs = f.ticket(member)
    other = f.ticket(outsider)
    ids = [t["id"] for t in api_as(manager).get("/tickets").json()["items"]]
    assert theirs.pk in ids and other.pk not in ids
    assert (
        api_as(f.customer(org=org)).get(f"/tickets/{theirs.pk}").status_code == 404
    )  # plain member does not


def test_customer_never_sees_internal_notes(api_as: Any) -> None:
    customer, agent = f.customer(), f.agent()
    ticket = f.ticket(customer)
    assert (
        api_as(agent).post(f"/tickets/{ticket.pk}/notes", {"body": "VIP, handle with care"}).status_code
        == 201
    )
    assert api_as(agent).post(f"/tickets/{ticket.pk}/replies", {"body": "On it"}).status_code == 201
    seen = api_as(customer).get(f"/tickets/{ticket.pk}").json()
    assert [m["body"] for m in seen["messages"]] == ["On it"]
    assert "note_added" not in [e["kind"] for e in seen["timeline"]]
    agent_view = api_as(agent).get(f"/tickets/{ticket.pk}").json()
    assert [m["kind"] for m in agent_view["messages"]] == ["note", "reply"]


def test_customer_cannot_assign_or_change_priority(api_as: Any) -> None:
    customer, agent = f.customer(), f.agent()
    other_agent = f.agent()
    ticket = f.ticket(customer)
    before = (ticket.assignee_id, ticket.priority_id, ticket.version)
    api = api_as(customer)
    target = other_agent if ticket.assignee_id == agent.pk else agent
    assert api.post(f"/tickets/{ticket.pk}/assignee", {"assignee_id": target.pk}).status_code == 403
    assert (
        api.post(f"/tickets/{ticket.pk}/priority", {"priority": "critical", "reason": "!!"}).status_code
        == 403
    )
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.priority_id, ticket.version) == before


def test_agent_full_workflow_through_api(api_as: Any) -> None:
    customer, agent, colleague = f.customer(), f.agent(), f.agent()
    ticket = f.ticket(customer)
    assert ticket.assignee_id in (agent.pk, colleague.pk)  # routed on creation
    other = colleague if ticket.assignee_id == agent.pk else agent
    api = api_as(agent)
    assigned = api.post(f"/tickets/{ticket.pk}/assignee", {"assignee_id": other.pk})
    assert assigned.json()["assignee"]["id"] == other.pk
    changed = api.post(f"/tickets/{ticket.pk}/priority", {"priority": "high", "reason": "Several users"})
    assert changed.status_code == 200 and changed.json()["priority"] == "high"
    waiting = api.post(f"/tickets/{ticket.pk}/status", {"status": "waiting", "reason": "Which server?"})
    assert waiting.json()["status"] == "waiting"
    assert api_as(customer).post(f"/tickets/{ticket.pk}/replies", {"body": "web-3"}).status_code == 201
    assert api.get(f"/tickets/{ticket.pk}").json()["status"] == "open"
    assert api.put(f"/tickets/{ticket.pk}/tags", {"tags": ["vpn", "network"]}).json()["tags"] == [
        "network",
        "vpn",
    ]
    details = api.patch(
        f"/tickets/{ticket.pk}/details", {"server_ip": "2001:db8::1", "frequency": "constant"}
    )
    assert details.json()["details"]["server_ip"] == "2001:db8::1"
    resolved = api.post(f"/tickets/{ticket.pk}/status", {"status": "resolved"})
    assert resolved.json()["status"] == "resolved"
    kinds = [e["kind"] for e in api.get(f"/tickets/{ticket.pk}").json()["timeline"]]
    assert kinds == [
        "created",
        "assigned",  # routing
        "assigned",
        "priority_changed",
        "status_changed",
        "replied",
        "status_changed",
        "tags_changed",
        "fields_changed",
        "status_changed",
    ]


def test_illegal_transition_is_409_problem(api_as: Any) -> None:
    ticket = f.ticket(f.customer())
    response = api_as(f.agent()).post(f"/tickets/{ticket.pk}/status", {"status": "new"})
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:tessera:problem:illegal_transition"
    assert problem["errors"][0]["field"] == "status"


def test_department_move_drops_assignee_who_does_not_work_there(api_as: Any) -> None:
    agent = f.agent("technical")
    ticket = f.ticket(f.customer())
    api = api_as(f.admin())
    api.post(f"/tickets/{ticket.pk}/assignee", {"assignee_id": agent.pk})
    moved = api.post(
        f"/tickets/{ticket.pk}/department", {"department": "billing", "reason": "Invoice question"}
    )
    assert moved.status_code == 200
    assert moved.json()["department"]["slug"] == "billing" and moved.json()["assignee"] is None
    assert api_as(agent).get(f"/tickets/{ticket.pk}").status_code == 404


def test_list_filters_and_cursor_pagination(api_as: Any) -> None:
    customer = f.customer()
    agent = f.agent("technical")
    created = [f.ticket(customer).pk for _ in range(7)]
    f.ticket(customer, dept="billing")
    api = api_as(agent)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"department": "technical", "status": "new", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/tickets", **params).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(created, reverse=True)
    assert api.get("/tickets", cursor="not-a-cursor").status_code == 422


def test_merge_moves_conversation_and_closes_source(api_as: Any) -> None:
    customer, agent = f.customer(), f.agent()
    source, target = f.ticket(customer, subject="dup"), f.ticket(customer, subject="main")
    api_as(customer).post(f"/tickets/{source.pk}/replies", {"body": "more info"})
    merged = api_as(agent).post(f"/tickets/{source.pk}/merge", {"target_id": target.pk})
    assert merged.status_code == 200 and merged.json()["id"] == target.pk
    source.refresh_from_db()
    assert source.status == Status.CLOSED and source.merged_into_id == target.pk
    assert [m.body for m in target.messages.all()] == ["more info"]
    assert TimelineEvent.objects.filter(ticket=source, kind="merged").exists()
    assert TimelineEvent.objects.filter(ticket=target, kind="merged_from").exists()
    again = api_as(agent).post(f"/tickets/{source.pk}/merge", {"target_id": target.pk})
    assert again.status_code == 409
    itself = api_as(agent).post(f"/tickets/{target.pk}/merge", {"target_id": target.pk})
    assert itself.status_code == 422


def test_stale_version_gets_409_and_changes_nothing(api_as: Any) -> None:
    ticket = f.ticket(f.customer())
    api = api_as(f.agent())
    first = api.post(f"/tickets/{ticket.pk}/priority", {"priority": "high", "reason": "r", "version": 1})
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = api.post(f"/tickets/{ticket.pk}/status", {"status": "resolved", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["type"] == "urn:tessera:problem:conflict"
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    stale_note = api.post(f"/tickets/{ticket.pk}/notes", {"body": "Based on v1", "version": 1})
    stale_tags = api.put(f"/tickets/{ticket.pk}/tags", {"tags": ["vip"], "version": 1})
    assert (stale_note.status_code, stale_tags.status_code) == (409, 409)
    assert not Message.objects.filter(ticket=ticket).exists() and not ticket.tags.exists()
    assert api.post(f"/tickets/{ticket.pk}/notes", {"body": "Based on v2", "version": 2}).status_code == 201


def test_openapi_document_is_served_and_valid(api_as: Any) -> None:
    from openapi_spec_validator import validate

    response = api_as(None).get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert "/api/v1/tickets" in document["paths"]


def test_requests_without_valid_token_are_401(api_as: Any) -> None:
    from tests.conftest import Api

    assert Api(None).get("/tickets").status_code == 401
    bad = Api("tsr_abc_def").get("/tickets")
    assert bad.status_code == 401 and bad["WWW-Authenticate"] == "Bearer"


def test_revoked_token_stops_working(api_as: Any) -> None:
    from tests.conftest import Api

    user = f.customer()
    api = api_as(user)
    created = api.post("/tokens", {"name": "script"})
    assert created.status_code == 201
    second = Api(created.json()["token"])
    assert second.get("/tickets").status_code == 200
    assert api.delete(f"/tokens/{created.json()['id']}").status_code == 200
    assert second.get("/tickets").status_code == 401
    from tessera.accounts.models import ApiToken

    # The secret is token_urlsafe, so it may hold "_" itself: split off only the scheme and the prefix.
    secret = created.json()["token"].split("_", 2)[2]
    assert len(secret) >= 40 and secret not in ApiToken.objects.get(pk=created.json()["id"]).key_hash


def _bad_bodies() -> list[tuple[str, Any]]:
    return [
        ("malformed json", '{"subject": "x", '),
        ("wrong type", json.dumps({"subject": 12, "description": "d", "department": "technical"})),
        (
            "unknown field",
            json.dumps({"subject": "s", "description": "d", "department": "technical", "evil": 1}),
        ),
        (
            "huge subject",
            json.dumps({"subject": "x" * 10_000_000, "description": "d", "department": "technical"}),
        ),
        ("null byte", json.dumps({"subject": "a\x00b", "description": "d", "department": "technical"})),
        (
            "bad tz",
            json.dumps(
                {
                    "subject": "s",
                    "description": "d",
                    "department": "technical",
                    "details": {"problem_started_tz": "Mars/Olympus"},
                }
            ),
        ),
        (
            "naive time",
            json.dumps(
                {
                    "subject": "s",
                    "description": "d",
                    "department": "technical",
                    "details": {"problem_started_at": "2026-11-20T10:00:00"},
                }
            ),
        ),
        (
            "bad ip",
            json.dumps(
                {
                    "subject": "s",
                    "description": "d",
                    "department": "technical",
                    "details": {"server_ip": "999.1.1.1"},
                }
            ),
        ),
        ("unknown department", json.dumps({"subject": "s", "description": "d", "department": "nope"})),
        (
            "unknown priority",
            json.dumps(
                {"subject": "s", "description": "d", "department": "technical", "priority": "urgent!!"}
            ),
        ),
        (
            "multi-line subject",
            json.dumps({"subject": "a\nb", "description": "d", "department": "technical"}),
        ),
        ("empty subject", json.dumps({"subject": "  ", "description": "d", "department": "technical"})),
        ("not an object", json.dumps([1, 2, 3])),
    ]


@pytest.mark.parametrize(("case", "raw"), _bad_bodies(), ids=[c for c, _ in _bad_bodies()])
def test_bad_input_gets_4xx_problem_and_changes_nothing(api_as: Any, case: str, raw: Any) -> None:
    api = api_as(f.customer())
    before = _snapshot()
    response = api.post("/tickets", raw=raw)
    assert 400 <= response.status_code < 500, (case, response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] and problem["status"] == response.status_code
    assert _snapshot() == before


def test_critical_technical_ticket_requires_incident_details(api_as: Any) -> None:
    api = api_as(f.customer())
    base = {
        "subject": "Server down",
        "description": "All sites down",
        "department": "technical",
        "priority": "critical",
    }
    missing = api.post("/tickets", base)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "affected_service"
    partial = api.post(
        "/tickets",
        {
            **base,
            "details": {
                "affected_service": "VPS",
                "problem_started_at": "2026-11-20T08:00:00+01:00",
                "problem_started_tz": "Europe/Rome",
            },
        },
    )
    assert partial.status_code == 422 and partial.json()["errors"][0]["field"] == "server_ip"
    complete = api.post(
        "/tickets",
        {
            **base,
            "details": {
                "affected_service": "VPS",
                "order_number": "ORD-77",
                "problem_started_at": "2026-11-20T08:00:00+01:00",
                "problem_started_tz": "Europe/Rome",
            },
        },
    )
    assert complete.status_code == 201
    assert complete.json()["details"]["problem_started_tz"] == "Europe/Rome"
    # A Critical billing ticket has no such rule.
    assert api.post("/tickets", {**base, "department": "billing"}).status_code == 201


def test_requester_copies_a_colleague_who_then_sees_the_ticket(api_as: Any) -> None:
    org = f.organisation("Copy Corp")
    requester, colleague = f.customer(org=org), f.customer(org=org)
    ticket = f.ticket(requester)
    assert api_as(colleague).get(f"/tickets/{ticket.pk}").status_code == 404
    response = api_as(requester).put(f"/tickets/{ticket.pk}/cc", {"contact_ids": [colleague.pk]})
    assert response.status_code == 200 and response.json()["cc"] == [colleague.pk]
    assert api_as(colleague).get(f"/tickets/{ticket.pk}").status_code == 200
    assert api_as(colleague).put(f"/tickets/{ticket.pk}/cc", {"contact_ids": []}).status_code == 403
    assert TimelineEvent.objects.filter(ticket=ticket, kind="cc_changed").count() == 1


def test_listing_a_queue_costs_the_same_queries_for_3_or_30_tickets(
    api_as: Any, django_assert_max_num_queries: Any
) -> None:
    agent = f.agent()
    api = api_as(agent)
    customer = f.customer()
    for _ in range(3):
        f.ticket(customer)
    api.get("/tickets")  # loads the per-process copy of departments and priorities
    # the token with its user (one prepared statement), tickets, their people, tags, CC ids
    with django_assert_max_num_queries(5) as few:
        assert len(api.get("/tickets", limit=50).json()["items"]) == 3
    for _ in range(27):
        f.ticket(customer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get("/tickets", limit=50).json()["items"]) == 30


def test_a_ticket_names_one_of_the_requesters_services(api_as: Any) -> None:
    from tessera.catalog.models import CustomerService

    customer, stranger = f.customer(), f.customer()
    own = CustomerService.objects.create(user=customer, name="Dedicated server DS-12")
    theirs = CustomerService.objects.create(user=stranger, name="VPS 3")
    api = api_as(customer)
    body = {"subject": "Down", "description": "No ping.", "department": "technical"}

    refused = api.post("/tickets", {**body, "customer_service_id": theirs.pk})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "customer_service"
    assert not Ticket.objects.filter(requester=customer).exists()

    created = api.post("/tickets", {**body, "customer_service_id": own.pk})
    assert created.status_code == 201
    data = created.json()
    assert data["customer_service_id"] == own.pk
    assert data["details"]["affected_service"] == "Dedicated server DS-12"  # as the client area names it


def test_list_and_detail_find_what_the_orm_finds_for_every_kind_of_user(api_as: Any) -> None:
    """The list reads through SQL prepared per kind of user and set of filters (tickets.queries.ticket_page);
    each combination must find what a queryset of the same conditions finds, page after page."""
    from tessera.tickets import services
    from tessera.tickets.access import visible_tickets

    org = f.organisation("Listed")
    manager, member, loner = f.customer(org=org, manager=True), f.customer(org=org), f.customer()
    technical, billing, admin = f.agent("technical"), f.agent("billing"), f.admin()
    tickets = [
        f.ticket(member, tags=["vpn"]),
        f.ticket(loner, dept="billing", prio="high"),
        f.ticket(manager, actor=technical, channel="phone"),
        f.ticket(loner, tags=["vpn", "dns"]),
        f.ticket(member, dept="billing", cc=[loner]),
        f.ticket(loner, prio="low"),
    ]
    Ticket.objects.filter(pk=tickets[1].pk).update(assignee=technical)  # billing ticket, technical agent
    Ticket.objects.filter(pk=tickets[3].pk).update(assignee=None)
    services.transition_ticket(actor=technical, ticket=tickets[5], status=Status.OPEN)

    filters: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {}),
        ({"department": "billing"}, {"department__slug": "billing"}),
        ({"status": ["new", "open"]}, {"status__in": ["new", "open"]}),
        ({"status": "open"}, {"status": "open"}),
        ({"assignee": "none"}, {"assignee__isnull": True}),
        ({"assignee": str(technical.pk)}, {"assignee": technical}),
        ({"priority": "high"}, {"priority__slug": "high"}),
        ({"requester": loner.pk}, {"requester": loner}),
        ({"tag": "vpn"}, {"tags__name": "vpn"}),
        ({"channel": "phone"}, {"channel": "phone"}),
        (
            {"department": "technical", "status": "new", "tag": "vpn"},
            {"department__slug": "technical", "status": "new", "tags__name": "vpn"},
        ),
    ]
    for user in (admin, technical, billing, manager, member, loner):
        api = api_as(user)
        for params, lookups in filters:
            if "department" in params and not user.is_agent:
                continue  # departments are an agent's filter
            expected = list(
                visible_tickets(user).filter(**lookups).order_by("-id").values_list("id", flat=True)
            )
            seen: list[int] = []
            cursor = None
            while True:
                page = api.get("/tickets", **params, limit=2, **({"cursor": cursor} if cursor else {}))
                assert page.status_code == 200, (user, params, page.content)
                seen += [t["id"] for t in page.json()["items"]]
                cursor = page.json()["next_cursor"]
                if not cursor:
                    break
            assert seen == expected, (user.email, params)
        visible = set(visible_tickets(user).values_list("id", flat=True))
        for ticket in tickets:
            status = api.get(f"/tickets/{ticket.pk}").status_code
            assert status == (200 if ticket.pk in visible else 404), (user.email, ticket.pk)
    # Ids beyond the database's range are refused by the schema (422 naming the parameter); cursors that
    # name no ticket id change nothing and break nothing.
    api = api_as(admin)
    for params in ({"requester": 2**70}, {"assignee": str(2**70)}, {"requester": "²"}, {"assignee": "²"}):
        refused = api.get("/tickets", **params)
        assert refused.status_code == 422, params
        assert refused.json()["errors"][0]["field"] == next(iter(params))
    assert api.get(f"/tickets/{2**70}").status_code in (404, 422)
    for bad in (
        "WzEuNV0",
        "WyJ4Il0",
        "W3RydWVd",
        "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwXQ",
    ):  # [1.5] ["x"] [true] [1e22]
        assert api.get("/tickets", cursor=bad).status_code == 422
