from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.db import connection

from tessera.core.errors import ValidationFailed
from tessera.search.services import search_tickets
from tessera.tickets import services
from tessera.tickets.models import Message, Ticket
from tests import factories

pytestmark = pytest.mark.django_db


def ids(user: Any, query: str) -> set[int]:
    return {t.pk for t in search_tickets(user, query).items}


@pytest.fixture(params=["gin", "walk", "walk, then gin"])
def strategy(request: pytest.FixtureRequest, monkeypatch: Any) -> None:
    """PostgreSQL reads a page from the GIN index or walks the newest documents (with the GIN index for
    what a capped walk did not reach); force each. SQLite has one way, run once."""
    from tessera.search import services as search

    if connection.vendor != "postgresql":
        if request.param != "gin":
            pytest.skip("PostgreSQL only")
        return
    budget = {"gin": 0, "walk": 1_000_000, "walk, then gin": 1}[request.param]
    monkeypatch.setattr(search, "_walk_budget", lambda lexemes: budget)


@pytest.mark.usefixtures("strategy")
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


@pytest.mark.usefixtures("strategy")
def test_index_follows_updates_and_merges() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Printer jammed", description="paper")
    Ticket.objects.filter(pk=ticket.pk).update(subject="Scanner broken")
    assert ids(agent, "printer") == set()
    assert ids(agent, "scanner") == {ticket.pk}

    source = factories.ticket(carla, subject="Duplicate", description="same issue")
    services.add_reply(actor=carla, ticket=source, body="wombat sighting")
    assert ids(agent, "wombat") == {source.pk}
    services.merge_tickets(actor=agent, source=source, target=ticket)
    assert ids(agent, "wombat") == {ticket.pk}  # the moved message now finds the target

    message = Message.objects.get(body="wombat sighting")
    Message.objects.filter(pk=message.pk).update(body="platypus sighting")
    assert ids(agent, "wombat") == set()
    assert ids(agent, "platypus") == {ticket.pk}
    # Messages are protected by their timeline events; a bare row shows the delete trigger works.
    bare = Message.objects.create(ticket=ticket, author=carla, body="ocelot")
    assert ids(agent, "ocelot") == {ticket.pk}
    bare.delete()
    assert ids(agent, "ocelot") == set()


def test_rolled_back_change_leaves_no_trace_in_the_index() -> None:
    from django.db import transaction

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
    services.add_note(actor=agent, ticket=ticket, body="customer owes us money, secretword")
    assert ids(agent, "secretword") == {ticket.pk}
    assert ids(carla, "secretword") == set()
    services.add_reply(actor=agent, ticket=ticket, body="your invoice mentions a marmot")
    assert ids(carla, "marmot") == {ticket.pk}
    Message.objects.filter(body__contains="marmot").update(kind=Message.Kind.NOTE)  # made internal later
    assert ids(carla, "marmot") == set()
    assert ids(agent, "marmot") == {ticket.pk}


@pytest.mark.usefixtures("strategy")
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


@pytest.mark.parametrize(
    "query",
    ['"', 'foo" OR "bar', "NEAR(a b)", "subject:foo", "*", "a AND", "(((", "-x", "' OR 1=1 --", "^foo"],
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
    assert search_tickets(carla, "   ").items == []


@pytest.mark.usefixtures("strategy")
def test_pagination_walks_all_hits_newest_first() -> None:
    carla = factories.customer("carla")
    made = [factories.ticket(carla, subject=f"Echo number {n}").pk for n in range(5)]
    page = search_tickets(carla, "echo", limit=2)
    seen = [t.pk for t in page.items]
    while page.next_cursor:
        page = search_tickets(carla, "echo", page.next_cursor, limit=2)
        seen += [t.pk for t in page.items]
    assert seen == sorted(made, reverse=True)


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


@pytest.mark.usefixtures("strategy")
def test_every_strategy_finds_the_same() -> None:
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
    assert ids(agent, "heron") == {in_subject.pk, in_reply.pk, in_note.pk, assigned.pk}
    assert ids(carla, "heron") == {in_subject.pk, in_reply.pk, billing.pk, assigned.pk}
    assert ids(factories.admin(), "heron") == {
        in_subject.pk,
        in_reply.pk,
        in_note.pk,
        billing.pk,
        assigned.pk,
    }
    # Full pages that walk every hit once, newest first, whichever way they were found.
    for user, expected in (
        (agent, {in_subject.pk, in_reply.pk, in_note.pk, assigned.pk}),
        (carla, {in_subject.pk, in_reply.pk, billing.pk, assigned.pk}),
    ):
        for limit in (1, 3):
            pages = [search_tickets(user, "heron", limit=limit)]
            while pages[-1].next_cursor:
                pages.append(search_tickets(user, "heron", pages[-1].next_cursor, limit=limit))
            assert [t.pk for page in pages for t in page.items] == sorted(expected, reverse=True)
            assert all(len(page.items) == limit for page in pages[:-1])


def test_lexeme_frequencies_choose_between_gin_and_walk(monkeypatch: Any) -> None:
    """The GIN index for words rare enough, else the walk, with a budget of what the index would cost."""
    from tessera.search import services as search

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    carla = factories.customer("carla")
    for n in range(30):
        factories.ticket(carla, subject=f"Albatross sighting {n}", description="puffin" if n == 7 else "calm")
    assert search._walk_budget(["albatross"]) == 0  # never analysed: nothing is known to be frequent
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_document")
    search._frequencies.clear()  # the copy kept from before ANALYZE
    costs = {"GIN_POSTING_US": 1, "GIN_MATCH_US": 1, "WALK_TEST_US": 2, "GIN_AT_ONCE_US": 40}
    for name, value in costs.items():
        monkeypatch.setattr(search, name, value)
    assert search._walk_budget(["albatross"]) == 30  # in all 30: 30 postings and 30 matches, 60 µs
    assert search._walk_budget(["albatross", "sighting"]) == 45  # two lists of 30, 30 matches
    assert search._walk_budget(["puffin"]) == 0  # in one
    assert search._walk_budget(["albatross", "puffin"]) == 0  # the rare word leads the intersection
    assert search._walk_budget(["gannet"]) == 0  # in none: not listed, counted as rare
    # The walk answers the first search, the GIN index the second.
    agent = factories.agent("technical")
    assert len(ids(agent, "albatross")) == 25
    assert len(ids(agent, "albatross puffin")) == 1


@pytest.mark.usefixtures("strategy")
def test_words_may_be_spread_over_the_conversation() -> None:
    """Both databases index a ticket as one document; a customer's words must all be in public text."""
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


@pytest.mark.usefixtures("strategy")
def test_index_follows_department_and_assignee_changes() -> None:
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


DOCUMENT = (
    "SELECT department_id, assignee_id, public_text, agent_text, signature_low, signature_high "
    "FROM search_document WHERE ticket_id = %s"
)


def _document_and_rebuilt(ticket_id: int) -> tuple[Any, Any]:
    """The search document as the triggers wrote it, then as `search_document_refresh` rebuilds it."""
    with connection.cursor() as cursor:
        cursor.execute(DOCUMENT, [ticket_id])
        written = cursor.fetchone()
        cursor.execute("SELECT search_document_refresh(%s)", [ticket_id])
        cursor.execute(DOCUMENT, [ticket_id])
        return written, cursor.fetchone()


def test_a_new_tickets_document_is_the_one_a_rebuild_writes() -> None:
    """PostgreSQL writes a new ticket's document straight from the row (migration 0005)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    carla = factories.customer("carla")
    ticket = factories.ticket(carla, subject="Heron: nest 42", description="Le héron niché\nzażółć gęślą")
    written, rebuilt = _document_and_rebuilt(ticket.pk)
    assert written is not None and written == rebuilt
    assert written[4] != 0 or written[5] != 0  # a signature was computed


def test_a_ticket_inserted_after_its_messages_indexes_them() -> None:
    """Foreign keys are deferred: within a transaction a ticket row may arrive after its messages (here
    it is deleted and inserted again). Its document must then hold their words too."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla, subject="Osprey", description="first")
    services.add_reply(actor=carla, ticket=ticket, body="pelican")
    services.add_note(actor=agent, ticket=ticket, body="cormorant")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy AS SELECT * FROM tickets_ticket WHERE id = %s", [ticket.pk])
        cursor.execute("DELETE FROM tickets_ticket WHERE id = %s", [ticket.pk])
        cursor.execute("INSERT INTO tickets_ticket SELECT * FROM copy")
    written, rebuilt = _document_and_rebuilt(ticket.pk)
    assert written is not None and written == rebuilt
    assert ids(carla, "osprey pelican") == {ticket.pk}
    assert ids(agent, "osprey cormorant") == {ticket.pk}
    assert ids(carla, "cormorant") == set()


def test_signatures_are_those_of_the_sql_definition() -> None:
    """The PL/pgSQL `search_signature` must give the bits the stored columns were computed with."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    definitions = importlib.import_module("tessera.search.migrations.0005_plpgsql_document_writes")

    words = "alpha beta gamma żółw héron 42 mail@example.com"
    with connection.cursor() as cursor:
        for half in (0, 1):
            query = definitions.SIGNATURE_QUERY.replace("document", "to_tsvector('simple', %s)").replace(
                "= half", "= %s"
            )
            cursor.execute(query, [words, half])
            expected = cursor.fetchone()[0]
            cursor.execute("SELECT search_signature(to_tsvector('simple', %s), %s)", [words, half])
            assert cursor.fetchone()[0] == expected
