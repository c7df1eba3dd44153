"""Two agents changing one ticket at once: no lost update."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections

from tessera.core.errors import Conflict
from tessera.tickets import services
from tessera.tickets.models import Ticket, TimelineEvent
from tests import factories as f


@pytest.mark.django_db
def test_second_writer_with_stale_copy_gets_conflict() -> None:
    ticket = f.ticket(f.customer())
    alice, bob = f.agent(), f.agent()
    alice_copy = Ticket.objects.select_related("department", "priority").get(pk=ticket.pk)
    bob_copy = Ticket.objects.select_related("department", "priority").get(pk=ticket.pk)
    services.change_priority(actor=alice, ticket=alice_copy, priority=f.priority("high"), reason="outage")
    with pytest.raises(Conflict):
        services.change_priority(actor=bob, ticket=bob_copy, priority=f.priority("low"), reason="cosmetic")
    ticket.refresh_from_db()
    assert ticket.priority.slug == "high"
    assert TimelineEvent.objects.filter(ticket=ticket, kind="priority_changed").count() == 1


@pytest.mark.django_db
def test_concurrent_replies_are_both_kept() -> None:
    customer, agent = f.customer(), f.agent()
    ticket = f.ticket(customer)
    stale = Ticket.objects.select_related("department", "priority").get(pk=ticket.pk)
    services.add_reply(actor=agent, ticket=ticket, body="first")
    services.add_reply(actor=customer, ticket=stale, body="second")  # no version given: both kept
    assert list(ticket.messages.values_list("body", flat=True)) == ["first", "second"]


@pytest.mark.django_db(transaction=True)
def test_two_agents_racing_in_real_threads_never_lose_an_update() -> None:
    ticket = f.ticket(f.customer())
    agents = [f.agent(), f.agent()]
    copies = [Ticket.objects.select_related("department", "priority").get(pk=ticket.pk) for _ in agents]
    priorities = [f.priority("high"), f.priority("low")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def work(index: int) -> None:
        try:
            barrier.wait()
            services.change_priority(
                actor=agents[index], ticket=copies[index], priority=priorities[index], reason="race"
            )
            outcomes.append(f"ok:{priorities[index].slug}")
        except Conflict:
            outcomes.append("conflict")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes)[0] == "conflict" and len(outcomes) == 2, outcomes
    winner = next(o for o in outcomes if o.startswith("ok:")).split(":")[1]
    ticket.refresh_from_db()
    assert ticket.priority.slug == winner and ticket.version == 2
    assert TimelineEvent.objects.filter(ticket=ticket, kind="priority_changed").count() == 1
