"""Generate a realistic Tessera data set for benchmarks (issue 16).

Tickets in English, Italian, Polish and French (the requester's language), written from support phrase
patterns over a Zipf-distributed vocabulary of several thousand words per language (bench/corpus/), with
product and service names, host names, IPv4/IPv6 addresses, error codes, order numbers, ticket references,
email addresses, quoted replies and signatures. Customers belong to organisations (most of them) and file
several tickets each (a few file many); agents work in one or two departments and speak English plus one or
two other languages. Departments, priorities and channels are correlated (abuse is more often urgent,
billing rarely), and the status follows the age: a ticket of today is mostly new or open, one older than
six months is almost always closed. Each ticket carries its conversation: replies both ways (on average
about four messages), internal notes, status changes through waiting and back, the assignment, now and
then a priority change or a CC, as Message, TimelineEvent and CC rows.

Rows are written with the ORM's bulk_create, in one transaction per batch. Ids follow creation time
(the benchmarks' deep pages rely on dense, chronological ids); a second run appends.

Run (PostgreSQL, 1M tickets):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench TESSERA_DEBUG=false \\
        .venv/bin/python -m tessera migrate && \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench TESSERA_DEBUG=false \\
        .venv/bin/python bench/generate.py --tickets 1000000
Run (SQLite, 100k tickets):
    TESSERA_DATA_DIR=/tmp/tessera-bench-sqlite TESSERA_DEBUG=false .venv/bin/python -m tessera migrate && \\
    TESSERA_DATA_DIR=/tmp/tessera-bench-sqlite TESSERA_DEBUG=false \\
        .venv/bin/python bench/generate.py --tickets 100000
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a script; tests import this module with Django already set up
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import django

    django.setup()

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils.text import slugify

from bench.corpus import LANGUAGES, Context, Technical, Writer
from tessera.accounts.models import Department, Membership, Organisation, User
from tessera.search import services as search_services
from tessera.tickets.models import Message, Priority, Ticket, TimelineEvent

AGENT_DOMAIN = "bench.tessera.test"
LANGUAGE_WEIGHTS = {"en": 40, "it": 25, "pl": 20, "fr": 15}
DATE_FORMATS = {"en": "%Y-%m-%d", "it": "%d/%m/%Y", "pl": "%d.%m.%Y", "fr": "%d/%m/%Y"}
DEPARTMENT_WEIGHTS = {"technical": 50, "billing": 30, "abuse": 20}
PRIORITY_WEIGHTS = {
    "technical": {"low": 15, "medium": 50, "high": 25, "critical": 10},
    "billing": {"low": 35, "medium": 55, "high": 9, "critical": 1},
    "abuse": {"low": 10, "medium": 40, "high": 35, "critical": 15},
}
CHANNEL_WEIGHTS = {"web": 45, "email": 35, "phone": 8, "chat": 7, "api": 5}
# Status by the ticket's age in days: (younger than, weights).
STATUS_BY_AGE = (
    (1, {"new": 45, "open": 35, "waiting": 10, "resolved": 10}),
    (7, {"new": 10, "open": 35, "waiting": 20, "resolved": 25, "closed": 10}),
    (30, {"new": 2, "open": 15, "waiting": 13, "resolved": 30, "closed": 40}),
    (180, {"open": 4, "waiting": 3, "resolved": 13, "closed": 80}),
    (float("inf"), {"open": 1, "waiting": 1, "resolved": 3, "closed": 95}),
)
HOUR = 3600.0
DAY = 24 * HOUR


def weighted(weights: dict[str, int]) -> list[str]:
    return [key for key, weight in weights.items() for _ in range(weight)]


@dataclass
class Customer:
    pk: int
    first: str
    language: str
    email: str
    domain: str  # the organisation's (their servers' host names), or their mail provider's
    signature: str
    colleagues: list[int] = field(default_factory=list)


@dataclass
class Agent:
    pk: int
    first: str
    languages: list[str]
    email: str


# --------------------------------------------------------------------------------------------------
# People: organisations, customers, agents (created once, reused by later runs)
# --------------------------------------------------------------------------------------------------


def ensure_people(
    rng: random.Random, customers: int, agents: int, technical: Technical
) -> tuple[list[Customer], dict[int, list[Agent]]]:
    """Organisations, customers and agents, made the same way for the same seed: a second run finds them
    by email and creates only what is missing. Returns the customers and department id -> agents."""
    departments = list(Department.objects.order_by("pk"))
    if not departments or not Priority.objects.exists():
        raise SystemExit("No departments or priorities: run `python -m tessera migrate` first.")
    names = {code: (lang.first_names.split(), lang.last_names.split()) for code, lang in LANGUAGES.items()}
    languages = weighted(LANGUAGE_WEIGHTS)

    organisations: list[tuple[str, str, str]] = []  # name, language, domain
    seen: set[str] = set()
    for index in range(max(1, customers // 8)):
        code = rng.choice(languages)
        lasts = names[code][1]
        name = rng.choice(LANGUAGES[code].company_forms).format(last=rng.choice(lasts))
        if name in seen:
            name = f"{name} ({index})"
        seen.add(name)
        organisations.append((name, code, f"{slugify(name)[:40].strip('-')}.example"))
    existing = dict(Organisation.objects.filter(name__in=seen).values_list("name", "pk"))
    Organisation.objects.bulk_create(
        [Organisation(name=name) for name, _, _ in organisations if name not in existing], batch_size=2000
    )
    org_ids = dict(Organisation.objects.filter(name__in=seen).values_list("name", "pk"))

    # Organisation sizes are skewed too: a few large customers, many small ones.
    org_weights = list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(len(organisations))))
    specs: list[tuple[User, Customer, str | None]] = []
    managers: set[str] = set()
    for index in range(customers):
        organisation = rng.choices(organisations, cum_weights=org_weights)[0] if rng.random() < 0.7 else None
        code = organisation[1] if organisation and rng.random() < 0.9 else rng.choice(languages)
        first, last = rng.choice(names[code][0]), rng.choice(names[code][1])
        domain = organisation[2] if organisation else rng.choice(LANGUAGES[code].free_mail)
        email = f"{slugify(first)}.{slugify(last)}{index}@{domain}"
        company = organisation[0] if organisation else ""
        signature = LANGUAGES[code].signature.format(
            first=first, last=last, company=company, phone=technical.phone()
        )
        signature = "\n".join(line for line in signature.splitlines() if line)  # no company line
        user = User(
            email=email,
            full_name=f"{first} {last}",
            role=User.Role.CUSTOMER,
            password="!",  # noqa: S106 - an unusable password hash
            is_verified=True,
            language=code,
            organisation_id=org_ids[organisation[0]] if organisation else None,
            is_org_manager=bool(organisation) and organisation[0] not in managers,
        )
        if organisation:
            managers.add(organisation[0])
        specs.append(
            (user, Customer(0, first, code, email, domain, signature), organisation and organisation[0])
        )

    agent_specs: list[tuple[User, Agent, list[int]]] = []
    others = ("it", "pl", "fr")
    for index in range(agents):
        code = rng.choice(list(LANGUAGES))
        first, last = rng.choice(names[code][0]), rng.choice(names[code][1])
        spoken = ["en", others[index % 3]] + ([others[(index + 1) % 3]] if index % 4 == 0 else [])
        email = f"agent{index:03d}@{AGENT_DOMAIN}"
        user = User(
            email=email,
            full_name=f"{first} {last}",
            role=User.Role.AGENT,
            password="!",  # noqa: S106 - an unusable password hash
            is_verified=True,
            language=code,
            languages_spoken=spoken,
        )
        # Agent i works in department i % n; every fifth agent also covers the next department.
        homes = [departments[index % len(departments)].pk]
        if index % 5 == 4:
            homes.append(departments[(index + 1) % len(departments)].pk)
        agent_specs.append((user, Agent(0, first, spoken, email), homes))

    emails = [user.email for user, _, _ in specs] + [user.email for user, _, _ in agent_specs]
    with transaction.atomic():
        known = set()
        for start in range(0, len(emails), 5000):
            known.update(
                User.objects.filter(email__in=emails[start : start + 5000]).values_list("email", flat=True)
            )
        new_users = [user for user, _, _ in specs if user.email not in known]
        new_users += [user for user, _, _ in agent_specs if user.email not in known]
        User.objects.bulk_create(new_users, batch_size=2000)
        pks: dict[str, int] = {}
        for start in range(0, len(emails), 5000):
            pks.update(User.objects.filter(email__in=emails[start : start + 5000]).values_list("email", "pk"))
        memberships = [
            Membership(
                department_id=department_id, agent_id=pks[user.email], is_lead=i < len(departments) and n == 0
            )
            for i, (user, _, homes) in enumerate(agent_specs)
            for n, department_id in enumerate(homes)
        ]
        Membership.objects.bulk_create(memberships, ignore_conflicts=True)

    by_org: dict[str, list[int]] = {}
    result = []
    for user, customer, organisation in specs:
        customer.pk = pks[user.email]
        result.append(customer)
        if organisation:
            by_org.setdefault(organisation, []).append(customer.pk)
            customer.colleagues = by_org[organisation]  # shared list: filled as the loop goes on
    by_department: dict[int, list[Agent]] = {d.pk: [] for d in departments}
    for user, agent, homes in agent_specs:
        agent.pk = pks[user.email]
        for department_id in homes:
            by_department[department_id].append(agent)
    return result, by_department


# --------------------------------------------------------------------------------------------------
# Tickets and their conversations
# --------------------------------------------------------------------------------------------------


@dataclass
class Planned:
    ticket: Ticket
    messages: list[Message]
    events: list[TimelineEvent]
    cc: list[int]


class Generator:
    def __init__(
        self,
        *,
        customers: list[Customer],
        agents: dict[int, list[Agent]],
        technical: Technical,
        rng: random.Random,
        start: datetime,
        end: datetime,
        count: int,
    ) -> None:
        self.rng = rng
        self.technical = technical
        self.customers = customers
        # Some customers file many tickets, most a few: Zipf-like over a shuffled order.
        self.customer_weights = list(accumulate(1.0 / (rank + 10) ** 0.6 for rank in range(len(customers))))
        self.agents = agents
        self.writers = {code: Writer(language, rng) for code, language in LANGUAGES.items()}
        self.departments = {d.pk: d for d in Department.objects.all()}
        by_slug = {d.slug: d.pk for d in self.departments.values()}
        self.department_choices = [by_slug[slug] for slug in weighted(DEPARTMENT_WEIGHTS)]
        self.priorities = {p.slug: p for p in Priority.objects.all()}
        self.priority_choices = {
            by_slug[slug]: weighted(weights) for slug, weights in PRIORITY_WEIGHTS.items()
        }
        self.channels = weighted(CHANNEL_WEIGHTS)
        self.status_by_age = [(limit * DAY, weighted(weights)) for limit, weights in STATUS_BY_AGE]
        self.start, self.end = start, end
        self.step = (end - start).total_seconds() / max(count, 1)
        self.sequence = 0
        self.previous: dict[int, int] = {}  # customer -> the id of their latest saved ticket
        self.saved: list[int] = []  # ids of saved tickets, for references to other tickets
        self.prefix = settings.TESSERA_TICKET_PREFIX

    def _ref(self, customer: Customer) -> str:
        ticket_id = self.previous.get(customer.pk)
        if ticket_id is None and self.saved:
            ticket_id = self.rng.choice(self.saved)
        return f"{self.prefix}-{ticket_id or self.rng.randint(1, 999)}"

    def _status(self, age: float) -> str:
        for limit, choices in self.status_by_age:
            if age < limit:
                return self.rng.choice(choices)
        raise AssertionError("unreachable")

    def ticket(self) -> Planned:
        rng, tech = self.rng, self.technical
        created = self.start + timedelta(seconds=self.sequence * self.step + rng.random() * self.step)
        self.sequence += 1
        customer = rng.choices(self.customers, cum_weights=self.customer_weights)[0]
        writer = self.writers[customer.language]
        department_id = rng.choice(self.department_choices)
        department = self.departments[department_id]
        priority = self.priorities[rng.choice(self.priority_choices[department_id])]
        status = self._status((self.end - created).total_seconds())
        channel = rng.choice(self.channels)
        staff = self.agents[department_id]
        speakers = [a for a in staff if customer.language in a.languages] or staff
        agent = rng.choice(speakers)
        assignee = None if status == "new" and rng.random() < 0.6 else agent
        colleague = next((pk for pk in customer.colleagues if pk != customer.pk), None)
        ctx = Context(
            product=tech.product(),
            service=tech.service(),
            host=tech.host(customer.domain),
            host2=tech.host(customer.domain),
            ip=tech.ipv4(),
            ip6=tech.ipv6(),
            error=tech.error(),
            order=tech.order(created.year),
            ref=self._ref(customer),
            email=f"{rng.choice(('admin', 'it', 'billing', 'office', 'noc'))}@{customer.domain}",
            name=customer.first,
            agent=agent.first,
            date=(created - timedelta(days=rng.randint(0, 3))).strftime(DATE_FORMATS[customer.language]),
            time=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        )
        technical_ticket = department.slug == "technical"
        ticket = Ticket(
            subject=writer.subject(ctx),
            description=writer.description(ctx, customer.signature),
            requester_id=customer.pk,
            submitted_by_id=customer.pk,
            channel=channel,
            department_id=department_id,
            priority=priority,
            status="new",
            assignee_id=assignee.pk if assignee else None,
            affected_service=ctx.service if rng.random() < 0.5 else "",
            server_ip=(ctx.ip6 if rng.random() < 0.1 else ctx.ip)
            if technical_ticket and rng.random() < 0.45
            else None,
            order_number=ctx.order if rng.random() < (0.6 if department.slug == "billing" else 0.1) else "",
            error_message=ctx.error if technical_ticket and rng.random() < 0.35 else "",
            created_at=created,
        )
        planned = Planned(ticket, [], [], [])
        if colleague and rng.random() < 0.08:
            planned.cc.append(colleague)
        self._conversation(planned, status, customer, agent, assignee, priority.slug, department, ctx)
        return planned

    def _conversation(
        self,
        planned: Planned,
        status: str,
        customer: Customer,
        agent: Agent,
        assignee: Agent | None,
        priority: str,
        department: Department,
        ctx: Context,
    ) -> None:
        """The ticket's timeline up to its current status. Times are offsets from creation, squeezed into the
        time the ticket has existed if the conversation would run past now."""
        rng, ticket = self.rng, planned.ticket
        writer = self.writers[customer.language]
        agent_signature = LANGUAGES[customer.language].agent_signature.format(
            first=agent.first, department=department.name
        )
        steps: list[tuple[float, TimelineEvent]] = []
        offset = 0.0
        last_body = ticket.description
        last_sender = f"{ctx.name} <{customer.email}>"
        customer_channel = "email" if ticket.channel == "email" else rng.choice(("web", "web", "email"))

        def event(kind: str, actor: int | None, **fields: Any) -> None:
            fields.setdefault("channel", "web")
            steps.append((offset, TimelineEvent(kind=kind, actor_id=actor, **fields)))

        def message(kind: str, author: int, body: str, channel: str) -> None:
            nonlocal last_body, last_sender
            msg = Message(kind=kind, author_id=author, body=body, channel=channel)
            planned.messages.append(msg)
            if kind == "note":
                event("note_added", author, message=msg, is_public=False)
            else:
                event("replied", author, message=msg, channel=channel)
                last_body = body
                last_sender = f"{ctx.name} <{customer.email}>" if author == customer.pk else agent.email

        def agent_reply(ask: bool) -> None:
            body = writer.agent_reply(ctx, agent_signature, ask=ask)
            if customer_channel == "email" and rng.random() < 0.3:
                body += writer.quote(last_body, ctx, last_sender)
            message("reply", agent.pk, body, "web")

        def customer_reply() -> None:
            body = writer.customer_reply(ctx, customer.signature)
            if customer_channel == "email" and rng.random() < 0.6:
                body += writer.quote(last_body, ctx, last_sender)
            message("reply", customer.pk, body, customer_channel)

        def note() -> None:
            text = writer.note(ctx) if rng.random() < 0.5 else self.writers["en"].note(ctx)
            message("note", agent.pk, text, "web")

        event(
            "created",
            customer.pk,
            channel=ticket.channel,
            new={
                "status": "new",
                "priority": priority,
                "department": department.slug,
                "requester": customer.pk,
                "submitted_by": customer.pk,
            },
        )
        if assignee:
            offset += rng.uniform(1, 600)
            event("assigned", None, channel="system", old=None, new=assignee.pk, is_public=False)
        if status == "new":
            if rng.random() < 0.15:
                offset += rng.uniform(HOUR, DAY)
                customer_reply()
            if rng.random() < 0.1:
                offset += rng.uniform(60, HOUR)
                note()
        else:
            offset += rng.uniform(5 * 60, (2 if priority in ("high", "critical") else 10) * HOUR)
            event("status_changed", agent.pk, old="new", new="open")
            if rng.random() < 0.05:
                raised = "critical" if priority == "high" else "high"
                event("priority_changed", agent.pk, old=priority, new=raised)
            exchanges = 1 + min(int(rng.expovariate(0.6)), 8)
            for index in range(exchanges):
                last = index == exchanges - 1
                if rng.random() < 0.3:
                    offset += rng.uniform(60, 4 * HOUR)
                    note()
                offset += rng.uniform(5 * 60, DAY)
                agent_reply(ask=not last or status == "waiting")
                if not last:
                    if rng.random() < 0.3:
                        event("status_changed", agent.pk, old="open", new="waiting")
                        offset += rng.uniform(10 * 60, 2 * DAY)
                        customer_reply()
                        event(
                            "status_changed", customer.pk, channel=customer_channel, old="waiting", new="open"
                        )
                    else:
                        offset += rng.uniform(10 * 60, 2 * DAY)
                        customer_reply()
            if status == "open" and rng.random() < 0.5:
                offset += rng.uniform(10 * 60, DAY)
                customer_reply()
            elif status == "waiting":
                event(
                    "status_changed",
                    agent.pk,
                    old="open",
                    new="waiting",
                    reason=rng.choice(writer.language.agent_questions),
                )
            elif status in ("resolved", "closed"):
                if rng.random() < 0.4:
                    offset += rng.uniform(10 * 60, DAY)
                    customer_reply()
                offset += rng.uniform(60, 4 * HOUR)
                event("status_changed", agent.pk, old="open", new="resolved")
                if status == "closed":
                    offset += rng.uniform(DAY, 7 * DAY)
                    event("status_changed", agent.pk, old="resolved", new="closed")

        created = ticket.created_at
        room = max((self.end - created).total_seconds() - 60, 1.0)
        scale = min(1.0, room / offset) if offset else 1.0
        for seconds, timeline_event in steps:
            at = created + timedelta(seconds=seconds * scale)
            timeline_event.created_at = at
            timeline_event.ticket = ticket
            if timeline_event.message is not None:
                timeline_event.message.created_at = at
                timeline_event.message.ticket = ticket
            if timeline_event.kind == "status_changed":
                ticket.status = timeline_event.new
                if timeline_event.new == "resolved":
                    ticket.resolved_at = at
                elif timeline_event.new == "closed":
                    ticket.closed_at = at
        ticket.updated_at = steps[-1][1].created_at
        ticket.version = len(steps)
        planned.events = [timeline_event for _, timeline_event in steps]

    def write(self, batch: list[Planned]) -> tuple[int, int]:
        """One batch in one transaction; returns (messages, events) written."""
        messages = [m for p in batch for m in p.messages]
        events = [e for p in batch for e in p.events]
        with transaction.atomic():
            Ticket.objects.bulk_create([p.ticket for p in batch])
            Message.objects.bulk_create(messages)
            TimelineEvent.objects.bulk_create(events)
            Ticket.cc.through.objects.bulk_create(
                [Ticket.cc.through(ticket_id=p.ticket.pk, user_id=pk) for p in batch for pk in p.cc]
            )
        for planned in batch:
            self.previous[planned.ticket.requester_id] = planned.ticket.pk
            self.saved.append(planned.ticket.pk)
        return len(messages), len(events)


def refresh_search_index(tickets: QuerySet[Ticket]) -> None:
    """Write the search documents of `tickets`, which were written around the services.

    The one place that knows how search is kept. Before issue 16, database triggers wrote the documents in
    the same statement as each row, so there was nothing to do; issue 16's search writes them from the
    services' `event_recorded` and offers `search.services.reindex` for rows written in bulk. Until both
    branches are merged, call it when it exists (tests/bench/test_generate.py searches the generated data,
    so a missing document fails it); afterwards this is a plain call."""
    reindex = getattr(search_services, "reindex", None)
    if reindex is not None:
        reindex(tickets)


def gin_indexes(action: str) -> None:
    """Drop or create the search documents' GIN indexes (PostgreSQL). A bulk load writes the documents
    faster without them and builds each index once, sorted, afterwards (PostgreSQL's "Populating a
    Database" advice); measured at 60,000 tickets: 1.5 instead of 1.9 ms of database time per document."""
    if connection.vendor != "postgresql":
        return
    from tessera.search.models import SearchDocument

    # The indexes are created by the migration, not declared on the model: take them from there.
    migration = importlib.import_module("tessera.search.migrations.0006_search_document_model")
    existing = connection.introspection.get_constraints(connection.cursor(), SearchDocument._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
    with connection.schema_editor() as editor:
        for index in migration.GIN_INDEXES:
            if action == "drop" and index.name in existing:
                editor.remove_index(SearchDocument, index)
            elif action == "create" and index.name not in existing:
                editor.add_index(SearchDocument, index)


@dataclass
class Summary:
    tickets: int
    messages: int
    events: int
    first_id: int | None
    last_id: int | None
    seconds: float


def generate(
    *,
    tickets: int,
    customers: int | None = None,
    agents: int = 30,
    years: float = 3.0,
    seed: int = 2,
    batch: int = 2_000,
    now: datetime | None = None,
    log: Callable[[str], None] = print,
    index: bool = True,
) -> Summary:
    """Write `tickets` tickets (with their people, conversations and timelines) to the default database."""
    began = time.monotonic()
    rng = random.Random(seed)
    technical = Technical(random.Random(seed + 1))
    if customers is None:
        customers = min(max(tickets // 20, 50), 50_000)
    people, staff = ensure_people(random.Random(seed + 2), customers, agents, technical)
    log(
        f"  people: {len(people):,} customers, {sum(map(len, staff.values()))} memberships "
        f"({time.monotonic() - began:.1f} s)"
    )
    end = (now or datetime.now(UTC)) - timedelta(hours=1)
    gen = Generator(
        customers=people,
        agents=staff,
        technical=technical,
        rng=rng,
        start=end - timedelta(days=years * 365),
        end=end,
        count=tickets,
    )
    rng.shuffle(people)  # the Zipf weights then favour random customers, not the first created
    done = messages = events = 0
    # A batch is tens of thousands of new objects without reference cycles: the cyclic collector would
    # scan them over and over (it tripled bulk_create's time), so it runs once per batch instead.
    gc.disable()
    try:
        while done < tickets:
            size = min(batch, tickets - done)
            written = gen.write([gen.ticket() for _ in range(size)])
            messages, events, done = messages + written[0], events + written[1], done + size
            gc.collect()
            elapsed = time.monotonic() - began
            log(f"  {done:>9,} tickets  {elapsed:7.1f} s  {done / elapsed:8,.0f} tickets/s")
    finally:
        gc.enable()

    from tessera.tickets.routing import recount_loads

    recount_loads()  # the rows went around the services, so set the agents' open-ticket counts here
    if gen.saved and index:
        indexed = time.monotonic()
        refresh_search_index(Ticket.objects.filter(pk__gte=gen.saved[0]))
        log(f"  search index refreshed in {time.monotonic() - indexed:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics for the benchmarks
    return Summary(
        tickets=done,
        messages=messages,
        events=events,
        first_id=gen.saved[0] if gen.saved else None,
        last_id=gen.saved[-1] if gen.saved else None,
        seconds=time.monotonic() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=None, help="default: tickets / 20, 50 to 50,000")
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--batch", type=int, default=2_000, help="tickets per transaction")
    parser.add_argument("--years", type=float, default=3.0, help="creation dates spread over this many years")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument(
        "--no-index",
        action="store_true",
        help="skip the search documents (write them later with search.services.reindex, e.g. --index-only)",
    )
    parser.add_argument(
        "--index-only", action="store_true", help="only write the search documents of tickets without one"
    )
    parser.add_argument(
        "--shard", default="0/1", help="with --index-only: the tickets whose id %% N is I (I/N)"
    )
    parser.add_argument(
        "--gin",
        choices=["drop", "create"],
        help="PostgreSQL: drop the search GIN indexes before a bulk --index-only, create them after",
    )
    args = parser.parse_args()
    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
    if args.gin:
        began = time.monotonic()
        gin_indexes(args.gin)
        print(f"GIN indexes: {args.gin} in {time.monotonic() - began:.1f} s", flush=True)
    if args.index_only:
        began = time.monotonic()
        part, parts = (int(n) for n in args.shard.split("/"))
        missing = Ticket.objects.filter(search_document__isnull=True)
        if parts > 1:
            missing = missing.alias(shard=F("pk") % parts).filter(shard=part)
        count = search_services.reindex(missing, batch_size=1000)
        seconds = time.monotonic() - began
        print(f"Indexed {count:,} tickets in {seconds:.1f} s ({1000 * seconds / max(count, 1):.2f} ms each)")
    if args.gin or args.index_only:
        return
    summary = generate(
        tickets=args.tickets,
        customers=args.customers,
        agents=args.agents,
        years=args.years,
        seed=args.seed,
        batch=args.batch,
        log=lambda line: print(line, flush=True),
        index=not args.no_index,
    )
    print(
        f"Generated {summary.tickets:,} tickets (ids {summary.first_id}..{summary.last_id}), "
        f"{summary.messages:,} messages and {summary.events:,} events in {summary.seconds:.1f} s "
        f"({summary.tickets / summary.seconds:,.0f} tickets/s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
