"""Full-text ticket search on the database's own index: one SearchDocument per ticket (models.py).

Writing: the document is rebuilt from the ticket and its messages whenever the timeline records a change
of its text (`on_event_recorded`, in the same transaction as the change). `reindex` rebuilds any set of
documents, for data written outside the services.

Reading: the hits are `visible_tickets(user)` filtered by the document, so search can never show more
than every other ticket list. PostgreSQL matches the tsvectors with Django's SearchQuery, SQLite the FTS5
table. A ticket's words may be spread over its conversation. The user's text never reaches the engine's
query syntax: it is cut into words and each word is a phrase (`phraseto_tsquery`, a quoted FTS5 string),
so operators, quotes and parentheses are just text, and an IPv6 address or a host name stays one phrase.
A word of three letters or more is also a prefix (`invoic` finds `invoice`); one with a digit or a sign
(an address, an order number, an error code) matches whole. A ticket number or an email address also
finds that ticket, or that person's tickets, through their own indexes.

Languages: PostgreSQL stems a ticket's text with its requester's language (PostgreSQL 15 has no Polish
configuration: 'simple' for pl) and keeps the words as written too ('simple'). A search matches its
words as the searcher's language stems them, or as written: any ticket containing the words is found,
and other forms of them in the searcher's language. SQLite does not stem; its tokenizer folds case and
diacritics.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import reduce
from operator import and_, or_
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value, prefetch_related_objects
from django.db.models.expressions import CombinedExpression, RawSQL
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import ValidationFailed
from tessera.core.pagination import Page, decode_cursor, encode_cursor
from tessera.search.models import SearchDocument
from tessera.tickets import access
from tessera.tickets.models import Message, Ticket, TimelineEvent

QUERY_MAX = 200
TERMS_MAX = 12
PAGE_SIZE = 25
PREFIX_MIN = 3
# PostgreSQL: above this many matching documents a search walks the newest tickets (_newest_postgres).
COMMON = 1500
_WORD = re.compile(r"\w", re.UNICODE)

# PostgreSQL text search configuration of each user language; any other language is 'simple'.
LANGUAGE_CONFIGS = {"en": "english", "it": "italian", "fr": "french"}
FTS5_TABLE = "search_searchdocument_fts"
# Pages (of ~4 KB) one step of merge_index writes: each step holds the write lock for a few milliseconds.
FTS5_MERGE_PAGES = 100
# Events that change a ticket's text: its creation, its details, messages (added, moved or made internal).
TEXT_EVENTS = {
    TimelineEvent.Kind.CREATED,
    TimelineEvent.Kind.FIELDS_CHANGED,
    TimelineEvent.Kind.MERGED,
    TimelineEvent.Kind.MERGED_FROM,
    TimelineEvent.Kind.MESSAGE_PUBLISHED,
}
# The incident details that are text worth finding (an IP address, an order number, an error message).
TEXT_DETAILS = (
    "affected_service",
    "server_ip",
    "order_number",
    "error_message",
    "recent_changes",
    "diagnostics",
)


# Writing ------------------------------------------------------------------------------------------------


def _vector(text: str, config: str) -> SearchVector | CombinedExpression:
    simple = SearchVector(Value(text), config="simple")
    return simple if config == "simple" else SearchVector(Value(text), config=config) + simple


def _document(ticket: Ticket, messages: Iterable[tuple[str, str, int | None]]) -> SearchDocument:
    public = [ticket.subject, ticket.description]
    public += [str(value) for name in TEXT_DETAILS if (value := getattr(ticket, name))]
    if service := ticket.customer_service:  # the service the customer picked: its order number and IPs
        public += [service.name, service.order_number, *map(str, service.ip_addresses)]
    notes: list[str] = []
    for kind, body, merged_from_id in messages:
        (public if access.shown_to_customers(kind, merged_from_id) else notes).append(body)
    public_text = "\n".join(public)
    everything = "\n".join([public_text, *notes])
    if connection.vendor != "postgresql":
        return SearchDocument(ticket=ticket, public=public_text, everything=everything)
    config = LANGUAGE_CONFIGS.get(ticket.requester.language, "simple")
    # The columns are tsvectors: the values are expressions PostgreSQL evaluates on write.
    return SearchDocument(
        ticket=ticket,
        public=_vector(public_text, config),
        everything=_vector(everything, config),
    )


def _write(documents: list[SearchDocument]) -> None:
    SearchDocument.objects.bulk_create(
        documents, update_conflicts=True, unique_fields=["ticket"], update_fields=["public", "everything"]
    )


def index_ticket(ticket: Ticket) -> None:
    """Write the ticket's search document from the ticket as given and its messages as stored."""
    messages = (
        Message.objects.filter(ticket=ticket).order_by("id").values_list("kind", "body", "merged_from_id")
    )
    _write([_document(ticket, messages)])


def reindex(tickets: QuerySet[Ticket] | None = None, *, batch_size: int = 500) -> int:
    """Rebuild the search documents of `tickets` (all by default), in batches; returns how many."""
    tickets = (Ticket.objects.all() if tickets is None else tickets).select_related(
        "requester", "customer_service"
    )
    done, after = 0, 0
    while True:
        with transaction.atomic():
            batch = list(tickets.filter(pk__gt=after).order_by("pk")[:batch_size])
            if not batch:
                return done
            conversation: dict[int, list[tuple[str, str, int | None]]] = defaultdict(list)
            for ticket_id, kind, body, merged_from_id in (
                Message.objects.filter(ticket__in=batch)
                .order_by("id")
                .values_list("ticket_id", "kind", "body", "merged_from_id")
            ):
                conversation[ticket_id].append((kind, body, merged_from_id))
            _write([_document(ticket, conversation[ticket.pk]) for ticket in batch])
        done += len(batch)
        after = batch[-1].pk


def merge_index(*, pages: int = FTS5_MERGE_PAGES, max_steps: int = 50) -> int:
    """SQLite: merge the FTS5 index's segments in small steps, each its own short transaction, until there
    is nothing left to merge (or `max_steps`); returns the steps that did work. A no-op elsewhere.

    Every write transaction adds a segment to the FTS5 index. Left to FTS5 (its `automerge`), the merging
    happens inside the writes: at 100,000 tickets one ticket creation in ~15 stalled 0.8-1.2 s holding the
    write lock. Migration 0007 turns that off (`automerge` 0, `crisismerge` high); the periodic task
    `search.merge` calls this, so the merging is done by the task worker, a bounded amount at a time.
    """
    if connection.vendor != "sqlite":
        return 0
    done = 0
    with connection.cursor() as cursor:
        for _step in range(max_steps):
            with transaction.atomic():
                # FTS5's documented test for "did the merge do anything": total_changes() moves by 2 or more.
                cursor.execute("SELECT total_changes()")
                before = cursor.fetchone()[0]
                cursor.execute(
                    f"INSERT INTO {FTS5_TABLE} ({FTS5_TABLE}, rank) VALUES ('merge', %s)",  # noqa: S608 - constant
                    [pages],
                )
                cursor.execute("SELECT total_changes()")
                if cursor.fetchone()[0] - before < 2:
                    return done
            done += 1
    return done


def on_event_recorded(sender: object, event: TimelineEvent, **kwargs: Any) -> None:
    """Receiver of `tickets.events.event_recorded`: the document changes in the same transaction."""
    if event.kind == TimelineEvent.Kind.CREATED:
        _write([_document(event.ticket, [])])  # no messages yet: nothing to read inside the creation
    elif event.kind in TEXT_EVENTS or event.message_id is not None:
        index_ticket(event.ticket)


# Reading ------------------------------------------------------------------------------------------------


def terms(text: str) -> list[str]:
    """The words to look for: whitespace-separated chunks that contain at least one letter or digit."""
    text = (text or "").strip()
    if len(text) > QUERY_MAX:
        raise ValidationFailed(
            _("The search is too long: at most %(max)d characters.") % {"max": QUERY_MAX}, field="q"
        )
    if "\x00" in text:
        raise ValidationFailed(_("This text contains control characters that are not allowed."), field="q")
    return [chunk for chunk in text.split() if _WORD.search(chunk)][:TERMS_MAX]


def _prefix(word: str) -> bool:
    """Words of letters only, three or more, also match as the start of a longer word (`invoic` finds
    `invoice`). Numbers, addresses and codes match whole: 203.0.113.1 must not find 203.0.113.17."""
    return len(word) >= PREFIX_MIN and word.isalpha()


def _postgres_word(word: str, config: str) -> SearchQuery:
    if not _prefix(word):
        return SearchQuery(word, config=config, search_type="phrase")
    # to_tsquery syntax; the word is letters only, so it holds no operator.
    return SearchQuery(f"{word}:*", config=config, search_type="raw")


def _postgres_query(user: User, words: list[str]) -> SearchQuery:
    """Every word, each as a phrase or a prefix, all as the searcher's language stems them or all as
    written. Two alternatives at most: the planner adds up their estimates."""
    configs = dict.fromkeys([LANGUAGE_CONFIGS.get(user.language, "simple"), "simple"])
    return reduce(or_, (reduce(and_, (_postgres_word(word, config) for word in words)) for config in configs))


def _fts5_query(words: list[str], column: str) -> str:
    # Each word is a quoted FTS5 string (a phrase of its tokens; quotes inside are doubled), a prefix
    # query (`"invoic" *`) when it is a word of letters.
    phrases = " ".join(
        '"' + word.replace('"', '""') + '"' + (" *" if _prefix(word) else "") for word in words
    )
    return f"{{{column}}} : ({phrases})"


def ticket_number(words: list[str]) -> int | None:
    """The ticket number a search is on its own: TS-1042, TS1042, #1042 or 1042."""
    if len(words) != 1:
        return None
    prefix = re.escape(settings.TESSERA_TICKET_PREFIX)
    number = re.fullmatch(rf"(?:{prefix}-?|#)?(\d{{1,18}})", words[0], re.IGNORECASE)
    return int(number[1]) if number and 0 < int(number[1]) < 2**63 else None


def _exact(words: list[str]) -> list[QuerySet[Any, Any]]:
    """A search that is one ticket number or one email address also finds the ticket with that number,
    or the tickets that person requested or is copied on, through their own indexes."""
    if (number := ticket_number(words)) is not None:
        return [Ticket.objects.filter(pk=number).values("pk")]
    if len(words) != 1:
        return []
    try:
        validate_email(words[0])
    except ValidationError:
        return []
    email = words[0].lower()  # addresses are stored lower-cased (accounts.models.UserManager)
    return [
        Ticket.objects.filter(requester__email=email).values("pk"),
        Ticket.cc.through.objects.filter(user__email=email).values("ticket_id"),
    ]


def _text(user: User, words: list[str]) -> tuple[str, list[str]]:
    """The document column the user may match and the words to match in it."""
    column = "everything" if access.reads_internal_messages(user) else "public"
    if (number := ticket_number(words)) is not None:
        words = [str(number)]  # TS-42 also finds the tickets that mention 42 (as TS-42, #42 or 42)
    return column, words


def text_filter(user: User, text: str) -> Q | None:
    """A filter for querysets of tickets matching `text` (None when there is nothing to look for)."""
    words = terms(text)
    if not words:
        return None
    exact = _exact(words)
    column, words = _text(user, words)
    if connection.vendor == "postgresql":
        matched = Q(**{f"search_document__{column}__matches": _postgres_query(user, words)})
    else:
        match = f"SELECT rowid FROM {FTS5_TABLE} WHERE {FTS5_TABLE} MATCH %s"  # noqa: S608 - constant SQL
        matched = Q(pk__in=RawSQL(match, (_fts5_query(words, column),)))  # noqa: S611 - words are a parameter
    if not exact:
        return matched
    return Q(pk__in=Ticket.objects.filter(matched).values("pk").union(*exact))


def _newest(user: User, tickets: QuerySet[Ticket], words: list[str], count: int) -> list[Ticket]:
    """The `count` newest of `tickets` that match the words."""
    if connection.vendor != "postgresql":
        # FTS5 hands its matches to the IN list, and SQLite keeps the newest (decision record 0001).
        return list(tickets.filter(text_filter(user, " ".join(words))).order_by("-id")[:count])
    exact = _exact(words)
    column, text_words = _text(user, words)
    found = _newest_postgres(tickets, column, _postgres_query(user, text_words), count)
    if exact:  # a ticket number or an email address: few tickets, from their own indexes
        found += tickets.filter(pk__in=exact[0].union(*exact[1:])).order_by("-id")[:count]
        found = sorted({t.pk: t for t in found}.values(), key=lambda t: -t.pk)[:count]
    return found


def _newest_postgres(tickets: QuerySet[Ticket], column: str, query: SearchQuery, count: int) -> list[Ticket]:
    """Newest first, choosing the plan from the true number of matching documents instead of PostgreSQL's
    estimate, which multiplies the words' frequencies as if they were independent (docs/decisions/0001).
    The count stops at COMMON + 1: a common word's first matches are found at once, a rare word's from
    the GIN index.
    - Common (more than COMMON documents): walk the tickets newest first and test each one's document,
      stopping at `count` hits. The test is `ts_match_vq`, the function behind `@@`, which no index
      serves, so the planner walks.
    - Otherwise: every match from the GIN index (ids only, unordered and without LIMIT, so the planner does
      not walk), then the newest `count` of them."""
    documents = SearchDocument.objects.filter(**{f"{column}__matches": query})
    if documents[: COMMON + 1].count() > COMMON:
        tested = Func(
            F(f"search_document__{column}"), query, function="ts_match_vq", output_field=BooleanField()
        )
        return list(tickets.filter(tested).order_by("-id")[:count])
    matches = tickets.filter(**{f"search_document__{column}__matches": query}).order_by()
    newest = sorted(matches.values_list("pk", flat=True), reverse=True)[:count]
    return list(tickets.filter(pk__in=newest).order_by("-id"))


def named_ticket(user: User, text: str) -> Ticket | None:
    """The ticket a search names by its number, when the user may see it (the search box opens it)."""
    number = ticket_number(terms(text))
    return None if number is None else access.visible_tickets(user).filter(pk=number).first()


def search_queryset(user: User, text: str) -> QuerySet[Ticket]:
    """Tickets the user may see whose text matches; empty for an empty search."""
    condition = text_filter(user, text)
    if condition is None:
        return Ticket.objects.none()
    return access.visible_tickets(user).filter(condition)


def search_tickets(
    user: User, query: str, cursor: str | None = None, *, limit: int = PAGE_SIZE
) -> Page[Ticket]:
    """One page of matching tickets the user may see, newest first (keyset pagination on id). A ticket
    the search names by its number comes first, on the first page."""
    words = terms(query)
    if not words:
        return Page(items=[], next_cursor=None)
    tickets = access.visible_tickets(user)
    named = named_ticket(user, query)
    if named is not None:
        tickets = tickets.exclude(pk=named.pk)
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        if not isinstance(before, int) or isinstance(before, bool) or not 0 < before < 2**63:
            raise ValidationFailed(_("The cursor is not valid."), field="cursor")
        tickets = tickets.filter(pk__lt=before)
    lead = [named] if named is not None and not cursor else []
    room = limit - len(lead)
    found = _newest(user, tickets, words, room + 1)
    items = lead + found[:room]
    # Related rows after the LIMIT: joined before it, a common phrase (21,000 matches at 300,000 tickets)
    # joined four tables for every match before keeping 25 (385 of 400 ms).
    prefetch_related_objects(items, "priority", "department", "requester", "assignee")
    next_cursor = None
    if len(found) > room:
        # The next page starts below the last hit of this one (at the first when the named ticket filled
        # a page of one).
        next_cursor = encode_cursor([found[room - 1].pk if room else found[0].pk + 1])
    return Page(items=items, next_cursor=next_cursor)
