from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction

from tessera.core.errors import ValidationFailed
from tessera.search.models import SearchDocument
from tessera.search.services import reindex, search_tickets
from tessera.tickets import services
from tessera.tickets.models import Message, Ticket
from tessera.workspace.queries import Filters, apply_filters, queue_tickets
from tests import factories

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL stems")
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'", reason="FTS5 folds diacritics")


def ids(user: Any, query: str) -> set[int]:
    return {t.pk for t in search_tickets(user, query).items}


def test_finds_subject_description_and_reply_words() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    by_subject = factories.ticket(carla, subject="Mailbox quota exceeded", description="Help.")
    by_description = factories.ticket(carla, subject="Question", description="The firewall blocks port 25")
    by_reply = factories.ticket(carla, subject="Other", description="Nothing here")
    services.add_reply(actor=carla, ticket=by_reply, body="Also the kangaroo server is slow")
    factories.ticket(carla, subject="Unrelated", description="Unrelated")

    assert ids(agent, "mailbox") == {by_subject.pk}
    assert ids(agent, "FIREWALL port") == {by_description.pk}
    assert ids(carla, "kangaroo") == {by_reply.pk}
    assert ids(agent, "mailbox firewall") == set()  # every word must match


def test_index_follows_details_and_merges() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Printer jammed", description="paper")
    services.update_details(actor=agent, ticket=ticket, details={"error_message": "E-FUSER-42 overheated"})
    assert ids(agent, "overheated") == {ticket.pk}

    source = factories.ticket(carla, subject="Duplicate", description="same issue")
    services.add_reply(actor=carla, ticket=source, body="wombat sighting")
    assert ids(agent, "wombat") == {source.pk}
    services.merge_tickets(actor=agent, source=source, target=ticket)
    assert ids(agent, "wombat") == {ticket.pk}  # the moved message now finds the target, not the source


def test_text_merged_in_from_another_requester_is_not_found_by_the_targets_customer() -> None:
    carla = factories.customer("carla")
    outsider = factories.customer("outsider")
    agent = factories.agent("technical")
    target = factories.ticket(carla, subject="Printer jammed", description="paper")
    source = factories.ticket(outsider, subject="Printer too", description="toner")
    services.add_reply(actor=outsider, ticket=source, body="platypus invoice")
    services.merge_tickets(actor=agent, source=source, target=target, confirm_different_requesters=True)
    assert ids(agent, "platypus") == {target.pk}
    assert ids(carla, "platypus") == set()  # shown to the outsider only, under the ticket it came from
    assert reindex(Ticket.objects.filter(pk=target.pk)) == 1  # a rebuild keeps the same split
    assert ids(carla, "platypus") == set()
    assert ids(agent, "platypus") == {target.pk}


def test_reindex_rebuilds_what_was_written_outside_the_services() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Printer jammed", description="paper")
    other = factories.ticket(carla, subject="Printer fine", description="paper")
    Ticket.objects.filter(pk=ticket.pk).update(subject="Scanner broken")
    assert ids(agent, "scanner") == set()  # a bare UPDATE is not seen until the document is rebuilt
    assert reindex(Ticket.objects.filter(pk=ticket.pk)) == 1
    assert ids(agent, "scanner") == {ticket.pk}
    assert ids(agent, "printer") == {other.pk}
    SearchDocument.objects.all().delete()
    assert ids(agent, "paper") == set()
    assert reindex(batch_size=1) == 2
    assert ids(agent, "paper") == {ticket.pk, other.pk}


def test_the_document_written_on_each_change_is_the_one_reindex_writes() -> None:
    carla = factories.customer("carla", language="fr")
    agent = factories.agent("technical")
    ticket = factories.ticket(
        carla, subject="Héron: nid 42", description="Le héron niché", details={"server_ip": "192.0.2.7"}
    )
    services.add_reply(actor=carla, ticket=ticket, body="zażółć gęślą")
    services.add_note(actor=agent, ticket=ticket, body="note interne")
    written = SearchDocument.objects.values("public", "everything").get(pk=ticket.pk)
    reindex(Ticket.objects.filter(pk=ticket.pk))
    assert SearchDocument.objects.values("public", "everything").get(pk=ticket.pk) == written


def test_rolled_back_change_leaves_no_trace_in_the_index() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_reply(actor=carla, ticket=ticket, body="ephemeral walrus")
        assert ids(agent, "walrus") == {ticket.pk}
        raise RuntimeError
    assert ids(agent, "walrus") == set()


def test_internal_notes_never_match_for_customers() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Slow site")
    services.add_note(actor=agent, ticket=ticket, body="customer owes us money, secretword, boss@example.org")
    assert ids(agent, "secretword") == {ticket.pk}
    assert ids(carla, "secretword") == set()
    assert ids(agent, "boss@example.org") == {ticket.pk}
    assert ids(carla, "boss@example.org") == set()
    services.add_reply(actor=agent, ticket=ticket, body="your invoice mentions a marmot")
    assert ids(carla, "marmot") == {ticket.pk}
    Message.objects.filter(body__contains="marmot").update(kind=Message.Kind.NOTE)  # made internal later
    reindex(Ticket.objects.filter(pk=ticket.pk))
    assert ids(carla, "marmot") == set()
    assert ids(agent, "marmot") == {ticket.pk}


def test_words_may_be_spread_over_the_conversation() -> None:
    """A ticket is one document; a customer's words must all be in what a customer sees."""
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Lynx", description="first")
    services.add_reply(actor=carla, ticket=ticket, body="badger")
    services.add_note(actor=agent, ticket=ticket, body="marten")
    assert ids(agent, "lynx first") == {ticket.pk}
    assert ids(agent, "lynx badger") == {ticket.pk}
    assert ids(agent, "badger marten") == {ticket.pk}
    assert ids(carla, "lynx badger") == {ticket.pk}
    assert ids(carla, "badger marten") == set()  # a note word never completes a customer's match
    assert ids(carla, "marten") == set()


def test_results_respect_permissions() -> None:
    carla = factories.customer("carla")
    other = factories.customer("oscar")
    technical = factories.agent("technical")
    billing = factories.agent("billing")
    tech_ticket = factories.ticket(carla, subject="Kernel panic", dept="technical")
    billing_ticket = factories.ticket(carla, subject="Kernel invoice", dept="billing")
    assert ids(technical, "kernel") == {tech_ticket.pk}
    assert ids(billing, "kernel") == {billing_ticket.pk}
    assert ids(other, "kernel") == set()
    assert ids(factories.admin(), "kernel") == {tech_ticket.pk, billing_ticket.pk}
    floater = factories.agent(None)  # in no department: only what is assigned to them
    assert ids(floater, "kernel") == set()
    Ticket.objects.filter(pk=billing_ticket.pk).update(assignee=floater)
    assert ids(floater, "kernel") == {billing_ticket.pk}


def test_visibility_follows_department_and_assignee_changes() -> None:
    carla = factories.customer("carla")
    technical = factories.agent("technical")
    billing = factories.agent("billing")
    ticket = factories.ticket(carla, subject="Stoat report", dept="technical")
    Ticket.objects.filter(pk=ticket.pk).update(assignee=None)  # not auto-assigned: department decides
    assert ids(technical, "stoat") == {ticket.pk}
    assert ids(billing, "stoat") == set()
    Ticket.objects.filter(pk=ticket.pk).update(department=factories.department("billing"))
    assert ids(technical, "stoat") == set()
    assert ids(billing, "stoat") == {ticket.pk}
    Ticket.objects.filter(pk=ticket.pk).update(assignee=technical)
    assert ids(technical, "stoat") == {ticket.pk}


def test_cc_and_submitter_find_their_tickets() -> None:
    carla = factories.customer("carla")
    colleague = factories.customer("colin")
    watcher = factories.customer("wanda")
    ticket = factories.ticket(carla, subject="Gecko outage")
    ticket.cc.add(watcher)
    Ticket.objects.filter(pk=ticket.pk).update(submitted_by=colleague)
    assert ids(colleague, "gecko") == {ticket.pk}
    assert ids(watcher, "gecko") == {ticket.pk}
    assert ids(factories.customer("oscar"), "gecko") == set()


# Languages: each ticket's words in its requester's language, accented words included. Both databases
# find the words as written; PostgreSQL also finds other forms of them (stemming), SQLite finds them
# without their accents (FTS5's remove_diacritics; Polish ł is a letter of its own, not an accented l).
LANGUAGES = {
    "en": ("The printers were jammed at the warehouse", "printers warehouse", "printer jam", "jammed"),
    "it": ("La stampante è bloccata, perché?", "stampante perché", "stampanti bloccate", "perche"),
    "fr": ("Échec: imprimante bloquée au siège", "échec imprimante", "imprimantes bloqués", "echec siege"),
    "pl": ("Drukarka nie działa, zażółć gęślą jaźń", "drukarka działa", "DZIAŁA", "gesla jazn"),
}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_each_language_finds_its_words(language: str) -> None:
    text, as_written, _, _ = LANGUAGES[language]
    requester = factories.customer("carla", language=language)
    agent = factories.agent("technical")
    ticket = factories.ticket(requester, subject=text[:40], description=text)
    factories.ticket(requester, subject="Unrelated", description="nothing to see")
    assert ids(requester, as_written) == {ticket.pk}
    assert ids(agent, as_written.upper()) == {ticket.pk}
    assert ids(factories.customer("oscar", language=language), as_written) == set()


@postgres_only
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_postgres_finds_other_forms_in_the_searchers_language(language: str) -> None:
    text, as_written, other_forms, _ = LANGUAGES[language]
    requester = factories.customer("carla", language=language)
    ticket = factories.ticket(requester, subject="x", description=text)
    assert ids(requester, other_forms) == {ticket.pk}
    agent = factories.agent("technical")
    agent.language = language
    agent.save(update_fields=["language"])
    assert ids(agent, other_forms) == {ticket.pk}
    assert ids(factories.agent("technical"), as_written) == {ticket.pk}  # any searcher: as written


@sqlite_only
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_sqlite_ignores_diacritics(language: str) -> None:
    text, _, _, unaccented = LANGUAGES[language]
    requester = factories.customer("carla", language=language)
    ticket = factories.ticket(requester, subject="x", description=text)
    assert ids(requester, unaccented) == {ticket.pk}


def test_a_ticket_number_finds_the_ticket_it_names() -> None:
    carla = factories.customer("carla")
    technical = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Nothing numeric here", dept="technical")
    factories.ticket(carla, subject="Another")
    prefix = settings.TESSERA_TICKET_PREFIX
    for query in (ticket.reference, f"{prefix.lower()}-{ticket.pk}", f"#{ticket.pk}", str(ticket.pk)):
        assert ids(technical, query) == {ticket.pk}, query
        assert ids(carla, query) == {ticket.pk}, query
        # Invisible tickets are never found, even by their number.
        assert ids(factories.agent("billing"), query) == set(), query
        assert ids(factories.customer("oscar"), query) == set(), query


def test_an_email_address_finds_the_requesters_tickets_and_the_messages_naming_it() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    mine = factories.ticket(carla, subject="Mine")
    mentioned = factories.ticket(factories.customer("dora"), subject="Forward to carla")
    services.add_reply(actor=agent, ticket=mentioned, body=f"Please also write to {carla.email}, thanks")
    factories.ticket(factories.customer("erin"), subject="Not hers")
    assert ids(agent, carla.email) == {mine.pk, mentioned.pk}
    assert ids(agent, carla.email.upper()) == {mine.pk, mentioned.pk}
    assert ids(carla, carla.email) == {mine.pk}
    assert ids(factories.customer("oscar"), carla.email) == set()


def test_ip_addresses_are_found_whole() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    v4 = factories.ticket(carla, subject="Down", details={"server_ip": "203.0.113.17"})
    v6 = factories.ticket(
        carla, subject="Unreachable", description="host 2001:db8:85a3::8a2e:370:7334 times out"
    )
    in_reply = factories.ticket(carla, subject="Slow")
    services.add_reply(
        actor=carla, ticket=in_reply, body="From 10.0.0.1 it works, from 10.0.0.12 it does not"
    )
    assert ids(agent, "203.0.113.17") == {v4.pk}
    assert ids(carla, "203.0.113.17") == {v4.pk}
    assert ids(agent, "203.0.113.1") == set()
    assert ids(agent, "2001:db8:85a3::8a2e:370:7334") == {v6.pk}
    assert ids(agent, "2001:db8:85a3::8a2e:370:7335") == set()
    assert ids(agent, "10.0.0.1") == {in_reply.pk}
    assert ids(agent, "10.0.0.12 slow") == {in_reply.pk}
    assert ids(factories.customer("oscar"), "203.0.113.17") == set()


def test_order_numbers_error_codes_and_host_names() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(
        carla,
        subject="Checkout fails",
        description="db-01.example.net answers ERR_CONN_RESET",
        details={"order_number": "ORD-2024-0077"},
    )
    assert ids(agent, "ORD-2024-0077") == {ticket.pk}
    assert ids(agent, "err_conn_reset") == {ticket.pk}
    assert ids(agent, "db-01.example.net") == {ticket.pk}
    assert ids(agent, "ORD-2024-0078") == set()


@pytest.mark.parametrize(
    "query",
    [
        '"',
        'foo" OR "bar',
        "NEAR(a b)",
        "subject:foo",
        "*",
        "a AND",
        "(((",
        "-x",
        "' OR 1=1 --",
        "^foo",
        "!x & y",
    ],
)
def test_query_syntax_is_just_text(query: str) -> None:
    carla = factories.customer("carla")
    factories.ticket(carla, subject="foo bar")
    search_tickets(carla, query)  # must not raise a database error


def test_quoted_words_and_symbols_match_literally() -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla, subject="Server 10.0.0.1 is down", description="see NEAR(x) and a*b")
    assert ids(carla, "10.0.0.1") == {ticket.pk}
    assert ids(carla, "near(x)") == {ticket.pk}


def test_bad_input_is_a_clear_error() -> None:
    carla = factories.customer("carla")
    with pytest.raises(ValidationFailed):
        search_tickets(carla, "x" * 500)
    with pytest.raises(ValidationFailed):
        search_tickets(carla, "x", "%%%")
    assert search_tickets(carla, "   ").items == []


def test_pages_walk_every_hit_once_newest_first() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    in_subject = factories.ticket(carla, subject="Heron landed")
    in_reply = factories.ticket(carla, subject="x")
    services.add_reply(actor=carla, ticket=in_reply, body="a heron again")
    in_note = factories.ticket(carla, subject="y")
    services.add_note(actor=agent, ticket=in_note, body="heron internal")
    billing = factories.ticket(carla, subject="billing heron", dept="billing")
    assigned = factories.ticket(carla, subject="heron assigned", dept="billing")
    Ticket.objects.filter(pk__in=[in_subject.pk, in_reply.pk, in_note.pk, billing.pk]).update(assignee=None)
    Ticket.objects.filter(pk=assigned.pk).update(assignee=agent)
    factories.ticket(carla, subject="no bird here")
    expected = {
        agent: {in_subject.pk, in_reply.pk, in_note.pk, assigned.pk},
        carla: {in_subject.pk, in_reply.pk, billing.pk, assigned.pk},
        factories.admin(): {in_subject.pk, in_reply.pk, in_note.pk, billing.pk, assigned.pk},
    }
    for user, hits in expected.items():
        for limit in (1, 3, 25):
            pages = [search_tickets(user, "heron", limit=limit)]
            while pages[-1].next_cursor:
                pages.append(search_tickets(user, "heron", pages[-1].next_cursor, limit=limit))
            assert [t.pk for page in pages for t in page.items] == sorted(hits, reverse=True)
            assert all(len(page.items) == limit for page in pages[:-1])


def test_queue_filter_uses_the_same_search() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Heron landed")
    factories.ticket(carla, subject="Other")
    tickets = apply_filters(agent, queue_tickets(agent, "open"), Filters(q="heron"))
    assert [t.pk for t in tickets] == [ticket.pk]


def test_api_search(api_as: Any) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla, subject="Quokka escaped")
    response = api_as(carla).get("/search", q="quokka")
    assert response.status_code == 200
    assert [hit["id"] for hit in response.json()["items"]] == [ticket.pk]
    assert api_as(factories.customer("oscar")).get("/search", q="quokka").json()["items"] == []
    assert api_as(None).get("/search", q="quokka").status_code == 401
    assert api_as(carla).get("/search", q="x" * 300).status_code == 422
    assert api_as(carla).get("/search", q="quokka", cursor="%%%").status_code == 422


def test_the_database_index_is_the_one_read() -> None:
    """PostgreSQL reads the GIN index of the document for a rare word; SQLite the FTS5 table."""
    carla = factories.customer("carla")
    factories.ticket(carla, subject="Gannet")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rowid FROM search_searchdocument_fts WHERE search_searchdocument_fts MATCH 'gannet'"
            )
            assert len(cursor.fetchall()) == 1
        return
    from tessera.search.services import search_queryset

    tickets = search_queryset(factories.agent("technical"), "gannet")
    with connection.cursor() as cursor:
        # A few rows: without these the planner may as well walk the newest-first primary key.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = tickets.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "search_document_everything" in plan
