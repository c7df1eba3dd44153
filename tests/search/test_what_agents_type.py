"""Search finds what agents type (issue 19): ticket numbers, email addresses, IP addresses, host names,
order numbers, error codes and word prefixes, always within what tessera.tickets.access lets the
searcher see. Every test runs on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tessera.catalog.models import CustomerService
from tessera.search.services import search_queryset, search_tickets
from tessera.tickets import services
from tessera.tickets.models import Message, Ticket, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db


def ids(user: Any, query: str) -> set[int]:
    return {t.pk for t in search_tickets(user, query).items}


def order(user: Any, query: str, limit: int = 25) -> list[int]:
    """Every hit, page after page, in the order the pages give them."""
    pages = [search_tickets(user, query, limit=limit)]
    while pages[-1].next_cursor:
        pages.append(search_tickets(user, query, pages[-1].next_cursor, limit=limit))
    assert all(len(page.items) == limit for page in pages[:-1])
    return [t.pk for page in pages for t in page.items]


# Ticket numbers -----------------------------------------------------------------------------------------


def test_a_ticket_number_comes_first_then_the_tickets_that_mention_it() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    named = factories.ticket(carla, subject="Mail bounces")
    later = [factories.ticket(carla, subject=f"Follow-up {n}") for n in range(3)]
    for ticket in later:  # newer tickets whose text contains the number
        services.add_reply(actor=carla, ticket=ticket, body=f"See ticket {named.pk} please")
    newest_first = [t.pk for t in reversed(later)]
    prefix = settings.TESSERA_TICKET_PREFIX
    for query in (named.reference, f"{prefix.lower()}{named.pk}", f"#{named.pk}", str(named.pk)):
        for limit in (1, 2, 25):
            assert order(agent, query, limit) == [named.pk, *newest_first], (query, limit)


def test_an_invisible_ticket_is_never_named_first() -> None:
    carla = factories.customer("carla")
    named = factories.ticket(carla, subject="Billing question", dept="billing")
    Ticket.objects.filter(pk=named.pk).update(assignee=None)
    mention = factories.ticket(carla, subject=f"About {named.pk}", dept="technical")
    technical = factories.agent("technical")
    assert order(technical, str(named.pk)) == [mention.pk]
    assert order(factories.customer("oscar"), str(named.pk)) == []
    assert order(carla, str(named.pk)) == [named.pk, mention.pk]


def test_the_workspace_search_box_opens_a_visible_ticket() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Router reboots")
    hidden = factories.ticket(carla, subject="Refund", dept="billing")
    Ticket.objects.filter(pk=hidden.pk).update(assignee=None)
    client = Client()
    client.force_login(agent)
    for query in (ticket.reference, str(ticket.pk), f"#{ticket.pk}"):
        response = client.get("/agent/search", {"q": query})
        assert response.status_code == 302, query
        assert response["Location"] == f"/agent/tickets/{ticket.pk}/"
    response = client.get("/agent/search", {"q": hidden.reference})  # not theirs: a page of no results
    assert response.status_code == 200
    assert "Refund" not in response.content.decode()
    response = client.get("/agent/search", {"q": "router"})  # words list the results
    assert response.status_code == 200
    assert ticket.reference in response.content.decode()


def test_the_api_returns_the_named_ticket_first(api_as: Any) -> None:
    carla = factories.customer("carla")
    named = factories.ticket(carla, subject="Old one")
    newer = factories.ticket(carla, subject=f"Refers to {named.pk}")
    response = api_as(carla).get("/search", q=named.reference)
    assert [hit["id"] for hit in response.json()["items"]] == [named.pk, newer.pk]


# Email addresses ----------------------------------------------------------------------------------------


def test_an_email_address_finds_what_the_person_requested_or_was_copied_on() -> None:
    carla = factories.customer("carla")
    dora = factories.customer("dora")
    agent = factories.agent("technical")
    requested = factories.ticket(carla, subject="Mine")
    copied = factories.ticket(dora, subject="Dora's", cc=[carla])
    later_copied = factories.ticket(dora, subject="Dora's second")
    services.set_cc(actor=agent, ticket=later_copied, contacts=[carla])
    factories.ticket(dora, subject="Not hers")
    expected = [later_copied.pk, copied.pk, requested.pk]
    assert order(agent, carla.email) == expected
    assert order(agent, carla.email.upper()) == expected
    assert order(dora, carla.email) == [later_copied.pk, copied.pk]  # dora sees her own tickets only
    assert order(carla, carla.email) == expected
    assert order(factories.customer("oscar"), carla.email) == []
    assert order(factories.agent("billing"), carla.email) == []


# Addresses, host names, order numbers, error codes -----------------------------------------------------


def test_the_customer_service_of_a_ticket_is_found_by_its_order_number_and_addresses() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    service = CustomerService.objects.create(
        user=carla,
        name="Dedicated server DS-12",
        order_number="ORD-88412",
        ip_addresses=["198.51.100.23", "2001:db8:4::17"],
    )
    ticket = factories.ticket(carla, subject="Down again", customer_service_id=service.pk)
    factories.ticket(carla, subject="Other")
    for query in ("ORD-88412", "198.51.100.23", "2001:db8:4::17", "DS-12"):
        assert ids(agent, query) == {ticket.pk}, query
        assert ids(carla, query) == {ticket.pk}, query
        assert ids(factories.customer("oscar"), query) == set(), query
    assert ids(agent, "198.51.100.2") == set()  # an address matches whole, never as a prefix


def test_incident_details_are_found_and_follow_their_changes() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(
        carla,
        subject="Checkout fails",
        details={
            "server_ip": "2001:db8:85a3::8a2e:370:7334",
            "order_number": "WEB-2026-114",
            "error_message": "SQLSTATE[HY000] 2002 on db-07.eu.example.net",
            "diagnostics": "traceroute stops at 192.0.2.254",
        },
    )
    for query in ("2001:db8:85a3::8a2e:370:7334", "WEB-2026-114", "db-07.eu.example.net", "192.0.2.254"):
        assert ids(agent, query) == {ticket.pk}, query
        assert ids(carla, query) == {ticket.pk}, query
    services.update_details(actor=agent, ticket=ticket, details={"server_ip": "203.0.113.9"})
    assert ids(agent, "203.0.113.9") == {ticket.pk}
    assert ids(agent, "2001:db8:85a3::8a2e:370:7334") == set()


def test_an_address_in_an_internal_note_is_found_by_agents_only() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Slow")
    services.add_note(actor=agent, ticket=ticket, body="blocked 10.20.30.40 and ERR-4711 on fw-2.internal")
    for query in ("10.20.30.40", "ERR-4711", "fw-2.internal"):
        assert ids(agent, query) == {ticket.pk}, query
        assert ids(carla, query) == set(), query


# Word prefixes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "prefix"),
    [
        ("en", "Your invoice is attached", "invoic"),
        ("en", "The firewall rejects mail", "FIREW"),
        ("it", "La stampante è bloccata", "stampan"),
        ("fr", "L'imprimante refuse les travaux", "imprim"),
        ("pl", "Drukarka nie działa od rana", "druk"),
    ],
)
def test_a_word_prefix_finds_the_whole_word(language: str, text: str, prefix: str) -> None:
    requester = factories.customer("carla", language=language)
    agent = factories.agent("technical")
    agent.language = language
    agent.save(update_fields=["language"])
    ticket = factories.ticket(requester, subject="x", description=text)
    factories.ticket(requester, subject="Unrelated", description="nothing to see")
    assert ids(requester, prefix) == {ticket.pk}
    assert ids(agent, prefix) == {ticket.pk}
    assert ids(factories.agent("technical"), prefix) == {ticket.pk}  # an English-speaking agent too
    assert ids(factories.customer("oscar", language=language), prefix) == set()


def test_prefixes_combine_and_never_reach_internal_notes_for_customers() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Mailbox quota", description="Storage full")
    services.add_note(actor=agent, ticket=ticket, body="escalated to postmaster")
    assert ids(carla, "mailb stor") == {ticket.pk}
    assert ids(agent, "mailb postm") == {ticket.pk}
    assert ids(carla, "postm") == set()
    assert ids(carla, "mailb postm") == set()
    assert ids(carla, "ma") == set()  # two letters are too short to be a prefix


def test_numbers_and_codes_are_not_prefixes() -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla, subject="Order 4711 and code E1234")
    assert ids(carla, "4711") == {ticket.pk}
    assert ids(carla, "471") == set()
    assert ids(carla, "E12") == set()


# Publication of a merged message -----------------------------------------------------------------------


def test_publishing_a_merged_message_refreshes_what_customers_find() -> None:
    carla = factories.customer("carla")
    outsider = factories.customer("outsider")
    agent = factories.agent("technical")
    target = factories.ticket(carla, subject="Printer jammed")
    source = factories.ticket(outsider, subject="Printer too")
    services.add_reply(actor=outsider, ticket=source, body="the ocelot tray is stuck")
    services.merge_tickets(actor=agent, source=source, target=target, confirm_different_requesters=True)
    assert ids(carla, "ocelot") == set()
    services.publish_merged_message(
        actor=agent, message=Message.objects.get(body__contains="ocelot"), confirm=True
    )
    assert ids(carla, "ocelot") == {target.pk}
    assert ids(agent, "ocelot") == {target.pk}
    event = TimelineEvent.objects.get(ticket=target, kind=TimelineEvent.Kind.MESSAGE_PUBLISHED)
    assert (event.actor, event.is_public, event.old["from"]) == (agent, False, source.pk)


# PostgreSQL picks the plan from the count of matching documents: both plans give the ORM's answer ---------


@pytest.mark.parametrize("common", [0, 10**9])
def test_both_plans_give_the_orms_answer(common: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a search walks the newest tickets (common words) or reads every match from the index
    (rare ones), every page holds what the plain ORM filter (search_queryset, the queue filter's)
    gives, in its order, for agents, customers and admins."""
    monkeypatch.setattr("tessera.search.services.COMMON", common)
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    for n in range(9):
        ticket = factories.ticket(carla, subject=f"Parrot {n}" if n % 3 else f"Other {n}")
        if n % 4 == 0:
            services.add_note(actor=agent, ticket=ticket, body="parrot seen internally")
        if n == 5:
            billing = factories.department("billing")
            Ticket.objects.filter(pk=ticket.pk).update(assignee=None, department=billing)
    for user in (agent, carla, factories.admin()):
        for query in ("parrot", "parr", carla.email):
            expected = [t.pk for t in search_queryset(user, query).order_by("-id")]
            assert expected, (user, query)  # the comparison means something
            for limit in (1, 2, 25):
                assert order(user, query, limit) == expected, (user, query, limit)
