"""The benchmark data generator (bench/generate.py) makes data like a real desk's, at a tiny scale."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from bench.corpus import LANGUAGES
from bench.generate import Summary, generate
from tessera.accounts.models import Organisation, User
from tessera.search.services import search_tickets
from tessera.tickets.models import OPEN_STATUSES, Message, Ticket, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
WORD = re.compile(r"[^\W\d_]+")
IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
ORDER = re.compile(r"\bORD-\d{4}-\d{6}\b|\b\d{4}/\d{5}\b")


@pytest.fixture
def summary() -> Summary:
    return generate(tickets=200, years=1.0, seed=5, now=NOW, log=lambda line: None)


def all_text() -> list[str]:
    texts = [f"{s}\n{d}" for s, d in Ticket.objects.values_list("subject", "description")]
    return texts + list(Message.objects.values_list("body", flat=True))


def test_writes_the_tickets_with_their_people_and_conversations(summary: Summary) -> None:
    assert Ticket.objects.count() == summary.tickets == 200
    assert Message.objects.count() == summary.messages
    assert TimelineEvent.objects.count() == summary.events
    # Every ticket has its creation event; replies and internal notes come with their events.
    assert TimelineEvent.objects.filter(kind="created").count() == 200
    notes = Message.objects.filter(kind=Message.Kind.NOTE)
    assert notes.exists()
    assert TimelineEvent.objects.filter(kind="note_added", is_public=False).count() == notes.count()
    replies = Message.objects.filter(kind=Message.Kind.REPLY)
    assert TimelineEvent.objects.filter(kind="replied").count() == replies.count()
    assert replies.filter(author__role=User.Role.CUSTOMER).exists()
    assert replies.filter(author__role=User.Role.AGENT).exists()
    # A realistic spread of conversation lengths: some tickets answered once, some long.
    per_ticket = Counter(Message.objects.values_list("ticket_id", flat=True))
    lengths = [per_ticket.get(pk, 0) for pk in Ticket.objects.values_list("pk", flat=True)]
    assert min(lengths) <= 1
    assert max(lengths) >= 8
    assert 2 <= statistics.mean(lengths) <= 8
    # Customers file several tickets each, a few file many; most belong to an organisation.
    requesters = Counter(Ticket.objects.values_list("requester_id", flat=True))
    assert max(requesters.values()) >= 5
    assert sum(n for n in requesters.values() if n > 1) >= 100
    assert Organisation.objects.filter(members__isnull=False).distinct().count() >= 3
    assert Ticket.cc.through.objects.exists()


def test_text_is_in_four_languages_with_a_zipf_like_vocabulary(summary: Summary) -> None:
    languages = Counter(Ticket.objects.values_list("requester__language", flat=True))
    assert set(languages) == {"en", "it", "pl", "fr"}
    for code, language in LANGUAGES.items():
        descriptions = Ticket.objects.filter(requester__language=code).values_list("description", flat=True)
        # Each ticket reads in its requester's language: it closes with one of that language's closings.
        assert all(any(closing in d for closing in language.closings) for d in descriptions), code

    counts = Counter(word.lower() for text in all_text() for word in WORD.findall(text))
    assert len(counts) >= 800
    frequencies = sorted(counts.values(), reverse=True)
    assert frequencies[0] >= 50 * statistics.median(frequencies)
    assert sum(1 for n in frequencies if n <= 2) >= len(frequencies) / 3  # a long tail of rare words


def test_text_carries_the_tokens_agents_search_for(summary: Summary) -> None:
    texts = all_text()
    assert sum(1 for t in texts if IPV4.search(t)) >= 20
    assert any("2001:db8:" in t for t in texts)
    assert sum(1 for t in texts if EMAIL.search(t)) >= 20
    assert sum(1 for t in texts if ORDER.search(t)) >= 20
    assert any(re.search(rf"\b{settings.TESSERA_TICKET_PREFIX}-\d+\b", t) for t in texts)
    assert any(re.search(r"\b(HTTP \d{3}|\d{3} \d\.\d\.\d|errno \d+)", t) for t in texts)
    quoted = [b for b in Message.objects.values_list("body", flat=True) if "\n> " in b]
    assert quoted
    headers = [LANGUAGES[code].quote_header.split("{date}")[0] for code in LANGUAGES]
    assert all(any(h in b for h in headers) for b in quoted)
    assert Ticket.objects.exclude(server_ip=None).exists()
    assert Ticket.objects.exclude(order_number="").exists()

    # The search index holds the generated rows (bench/generate.py: refresh_search_index).
    admin = factories.admin()
    for pattern in (ORDER, IPV4, EMAIL):
        ticket, found = next(
            (t, m) for t in Ticket.objects.order_by("pk") if (m := pattern.search(t.description))
        )
        assert ticket.pk in [hit.pk for hit in search_tickets(admin, found.group(0), limit=100).items]


def test_status_follows_age_and_the_timeline(summary: Summary) -> None:
    old = Ticket.objects.filter(created_at__lt=NOW - timedelta(days=180))
    young = Ticket.objects.filter(created_at__gte=NOW - timedelta(days=30))
    assert old.count() >= 80 and young.count() >= 10
    old_done = old.filter(status__in=["resolved", "closed"]).count() / old.count()
    young_open = young.filter(status__in=OPEN_STATUSES).count() / young.count()
    assert old_done >= 0.9
    assert old.filter(status="closed").count() / old.count() >= 0.8
    assert young_open >= 0.25
    for ticket in Ticket.objects.all():
        changes = list(ticket.events.filter(kind="status_changed").order_by("created_at", "id"))
        assert (changes[-1].new if changes else "new") == ticket.status
        assert (ticket.closed_at is not None) == (ticket.status == "closed")
        assert ticket.created_at <= ticket.updated_at <= NOW
