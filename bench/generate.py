"""Generate a large, realistic Tessera data set for benchmarks (issue 2).

N tickets with ~10 timeline events each (created, assigned, replied, note_added, status_changed), the
matching Message rows for replies and notes, spread over the departments and all statuses, owned by
several thousand customers and worked on by ~30 agents with department memberships.

Writes go around the ORM on purpose: PostgreSQL gets COPY (psycopg 3) on three connections fed by a
background thread, with secondary indexes dropped during the load and rebuilt afterwards, and FK
triggers skipped (`session_replication_role = replica`; ids are generated consistently here). SQLite
gets `executemany` in large transactions. Ids are assigned explicitly after the current maximum, so
the script can be re-run to append, and identity sequences are moved past the new maximum on
PostgreSQL (SQLite's AUTOINCREMENT table follows explicit ids by itself).

Run (PostgreSQL, 1M tickets):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench TESSERA_DEBUG=false \\
        .venv/bin/python -m tessera migrate && \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench TESSERA_DEBUG=false \\
        .venv/bin/python bench/generate.py --tickets 1000000
Run (SQLite, 100k tickets):
    TESSERA_DATA_DIR=/tmp/tessera-bench-sqlite TESSERA_DEBUG=false \\
        .venv/bin/python bench/generate.py --tickets 100000
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from tessera.accounts.models import Department, Membership, User  # noqa: E402
from tessera.tickets.models import Priority  # noqa: E402

EMAIL_DOMAIN = "bench.tessera.test"
STATUS_WEIGHTS = {"new": 10, "open": 25, "waiting": 10, "resolved": 20, "closed": 35}
DEPARTMENT_WEIGHTS = {"technical": 50, "billing": 30, "abuse": 20}
PRIORITY_WEIGHTS = {"low": 20, "medium": 50, "high": 22, "critical": 8}
CHANNEL_WEIGHTS = {"web": 45, "email": 35, "phone": 8, "chat": 7, "api": 5}
# The status changes a ticket went through to reach its current status.
STATUS_PATHS = {
    "new": (),
    "open": ("open",),
    "waiting": ("open", "waiting"),
    "resolved": ("open", "waiting", "open", "resolved"),
    "closed": ("open", "resolved", "closed"),
}
WORDS = (
    "server",
    "invoice",
    "email",
    "password",
    "vps",
    "dns",
    "backup",
    "refund",
    "domain",
    "ssl",
    "login",
    "spam",
    "bandwidth",
    "outage",
    "renewal",
    "mailbox",
    "timeout",
    "firewall",
    "payment",
    "migration",
)

TICKET_COLS = (
    "id",
    "subject",
    "description",
    "channel",
    "impact",
    "urgency",
    "status",
    "affected_service",
    "server_ip",
    "order_number",
    "problem_started_at",
    "problem_started_tz",
    "frequency",
    "location",
    "error_message",
    "others_affected",
    "recent_changes",
    "diagnostics",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "version",
    "assignee_id",
    "department_id",
    "merged_into_id",
    "priority_id",
    "requester_id",
    "submitted_by_id",
)
MESSAGE_COLS = ("id", "kind", "channel", "body", "created_at", "author_id", "ticket_id")
EVENT_COLS = (
    "id",
    "channel",
    "kind",
    "old",
    "new",
    "reason",
    "is_public",
    "created_at",
    "actor_id",
    "message_id",
    "ticket_id",
)
TABLES = (
    ("tickets_ticket", TICKET_COLS),
    ("tickets_message", MESSAGE_COLS),
    ("tickets_timelineevent", EVENT_COLS),
)


def weighted(weights: dict[str, int]) -> list[str]:
    return [key for key, weight in weights.items() for _ in range(weight)]


def ensure_people(customers: int, agents: int) -> tuple[list[int], dict[int, list[int]]]:
    """Bench customers and agents (created once, reused on later runs); returns customer ids and
    department id -> agent ids."""
    departments = list(Department.objects.order_by("pk"))
    existing = set(User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).values_list("email", flat=True))
    new_users = []
    for i in range(customers):
        email = f"customer{i:06d}@{EMAIL_DOMAIN}"
        if email not in existing:
            new_users.append(
                User(
                    email=email,
                    full_name=f"Customer {i}",
                    role=User.Role.CUSTOMER,
                    password="!",  # noqa: S106 - an unusable password hash
                    is_verified=True,
                    language=random.choice(("en", "en", "it", "pl", "fr")),
                )
            )
    for i in range(agents):
        email = f"agent{i:03d}@{EMAIL_DOMAIN}"
        if email not in existing:
            new_users.append(
                User(
                    email=email,
                    full_name=f"Agent {i}",
                    role=User.Role.AGENT,
                    password="!",  # noqa: S106 - an unusable password hash
                    is_verified=True,
                    languages_spoken=["en", random.choice(("it", "pl", "fr"))],
                )
            )
    with transaction.atomic():
        User.objects.bulk_create(new_users, batch_size=2000)
        agent_ids = list(
            User.objects.filter(email__startswith="agent", email__endswith="@" + EMAIL_DOMAIN)
            .order_by("email")
            .values_list("pk", flat=True)
        )[:agents]
        # Agent i works in department i % 3; every fifth agent also covers the next department.
        memberships = []
        for i, agent_id in enumerate(agent_ids):
            memberships.append(
                Membership(
                    department=departments[i % len(departments)],
                    agent_id=agent_id,
                    is_lead=i < len(departments),
                )
            )
            if i % 5 == 4:
                memberships.append(
                    Membership(department=departments[(i + 1) % len(departments)], agent_id=agent_id)
                )
        Membership.objects.bulk_create(memberships, ignore_conflicts=True)
    customer_ids = list(
        User.objects.filter(email__startswith="customer", email__endswith="@" + EMAIL_DOMAIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )[:customers]
    by_department: dict[int, list[int]] = {d.pk: [] for d in departments}
    for department_id, agent_id in Membership.objects.filter(agent_id__in=agent_ids).values_list(
        "department_id", "agent_id"
    ):
        by_department[department_id].append(agent_id)
    return customer_ids, by_department


def next_id(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")  # noqa: S608 - fixed table names
        return int(cursor.fetchone()[0])


class Generator:
    """Produces rows as tuples of strings/None, ready for COPY text or SQLite parameters."""

    def __init__(
        self,
        *,
        postgres: bool,
        customers: list[int],
        agents: dict[int, list[int]],
        events: int,
        start: float,
        span: float,
        count: int,
        seed: int,
    ) -> None:
        self.rng = random.Random(seed)
        self.postgres = postgres
        self.true, self.false = ("t", "f") if postgres else ("1", "0")
        self.tz = "+00" if postgres else ""
        self.customers = customers
        self.agents = agents
        self.events = events
        self.start, self.step = start, span / max(count, 1)
        departments = {d.slug: d.pk for d in Department.objects.all()}
        priorities = {p.slug: p.pk for p in Priority.objects.all()}
        self.departments = [(departments[slug], slug) for slug in weighted(DEPARTMENT_WEIGHTS)]
        self.priorities = [(str(priorities[slug]), slug) for slug in weighted(PRIORITY_WEIGHTS)]
        self.statuses = weighted(STATUS_WEIGHTS)
        self.channels = weighted(CHANNEL_WEIGHTS)
        self.ticket_id = next_id("tickets_ticket")
        self.message_id = next_id("tickets_message")
        self.event_id = next_id("tickets_timelineevent")
        self.sequence = 0

    def ts(self, seconds: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds)) + self.tz

    def ticket(self) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng = self.rng
        tid = self.ticket_id
        self.ticket_id += 1
        created = self.start + self.sequence * self.step
        self.sequence += 1
        department_id, department_slug = rng.choice(self.departments)
        priority_id, priority_slug = rng.choice(self.priorities)
        status = rng.choice(self.statuses)
        channel = rng.choice(self.channels)
        requester = rng.choice(self.customers)
        agents = self.agents[department_id]
        assignee = None if status == "new" and rng.random() < 0.5 else rng.choice(agents)
        words = rng.sample(WORDS, 4)
        subject = f"{words[0].capitalize()} {words[1]} problem #{tid}"
        description = (
            f"Since this morning the {words[0]} and the {words[1]} do not work; "
            f"we tried the {words[2]} again but the {words[3]} still fails. Ticket body {tid}."
        )
        s_ticket, s_requester, s_assignee = str(tid), str(requester), (str(assignee) if assignee else None)
        messages: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        t = created
        new_json = (
            f'{{"status": "new", "priority": "{priority_slug}", "department": "{department_slug}", '
            f'"requester": {requester}, "submitted_by": {requester}}}'
        )
        events.append(
            (
                str(self.event_id),
                channel,
                "created",
                None,
                new_json,
                "",
                self.true,
                self.ts(t),
                s_requester,
                None,
                s_ticket,
            )
        )
        self.event_id += 1
        if assignee:
            t += rng.randint(5, 600)
            events.append(
                (
                    str(self.event_id),
                    "system",
                    "assigned",
                    None,
                    s_assignee,
                    "",
                    self.false,
                    self.ts(t),
                    None,
                    None,
                    s_ticket,
                )
            )
            self.event_id += 1
        path = list(STATUS_PATHS[status])
        remaining = max(self.events - len(events) - len(path), 0)
        # Spread the status changes among the messages; a reply/note needs an author who can write it.
        actions = ["msg"] * remaining
        for index, target in enumerate(path):
            actions.insert(min(len(actions), (index + 1) * (len(actions) // (len(path) + 1) + 1)), target)
        previous = "new"
        agent = s_assignee or str(rng.choice(agents))
        for action in actions:
            t += rng.randint(60, 36_000)
            stamp = self.ts(t)
            if action == "msg":
                is_note = rng.random() < 0.3
                by_agent = is_note or rng.random() < 0.5
                author = agent if by_agent else s_requester
                kind = "note" if is_note else "reply"
                body = (
                    f"Internal: checked the {rng.choice(WORDS)} logs, "
                    f"looks related to the {rng.choice(WORDS)}."
                    if is_note
                    else f"Hello, about your {rng.choice(WORDS)}: please try again now and tell us if the "
                    f"{rng.choice(WORDS)} still fails. Thanks!"
                )
                mid = str(self.message_id)
                self.message_id += 1
                messages.append((mid, kind, "web" if by_agent else channel, body, stamp, author, s_ticket))
                events.append(
                    (
                        str(self.event_id),
                        "web",
                        "note_added" if is_note else "replied",
                        None,
                        None,
                        "",
                        self.false if is_note else self.true,
                        stamp,
                        author,
                        mid,
                        s_ticket,
                    )
                )
            else:
                reason = "Which server is affected?" if action == "waiting" else ""
                events.append(
                    (
                        str(self.event_id),
                        "web",
                        "status_changed",
                        f'"{previous}"',
                        f'"{action}"',
                        reason,
                        self.true,
                        stamp,
                        agent,
                        None,
                        s_ticket,
                    )
                )
                previous = action
            self.event_id += 1
        updated = self.ts(t)
        resolved_at = updated if status in ("resolved", "closed") else None
        closed_at = updated if status == "closed" else None
        ticket = (
            s_ticket,
            subject,
            description,
            channel,
            "",
            "",
            status,
            "",
            None,
            "",
            None,
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            self.ts(created),
            updated,
            resolved_at,
            closed_at,
            str(len(events)),
            s_assignee,
            str(department_id),
            None,
            priority_id,
            s_requester,
            s_requester,
        )
        return ticket, messages, events


def pg_text(rows: list[tuple[Any, ...]]) -> bytes:
    # Generated values never contain tabs, newlines or backslashes, so no escaping is needed.
    return "".join("\t".join("\\N" if v is None else v for v in row) + "\n" for row in rows).encode()


def pg_secondary_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [[table for table, _ in TABLES]],
        )
        return list(cursor.fetchall())


def load_postgres(gen: Generator, count: int, batch: int, keep_indexes: bool) -> None:
    import psycopg

    settings = connection.settings_dict
    conninfo = psycopg.conninfo.make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )
    indexes = [] if keep_indexes else pg_secondary_indexes()
    if indexes:
        with connection.cursor() as cursor:
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        print(f"  dropped {len(indexes)} secondary indexes for the load", flush=True)
    work: queue.Queue[tuple[bytes, bytes, bytes] | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            conns = [psycopg.connect(conninfo) for _ in TABLES]
            for conn in conns:
                conn.execute("SET session_replication_role = replica")  # skip FK triggers during the load
            while (item := work.get()) is not None:
                for conn, (table, cols), data in zip(conns, TABLES, item, strict=True):
                    with conn.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        copy.write(data)
                for conn in conns:
                    conn.commit()
            for conn in conns:
                conn.close()
        except BaseException as exc:
            failure.append(exc)
            while work.get() is not None:
                pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        generate_batches(
            gen, count, batch, lambda t, m, e: work.put((pg_text(t), pg_text(m), pg_text(e))), failure
        )
    finally:
        work.put(None)
        thread.join()
        began = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cursor.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
            if indexes:
                print(f"  rebuilt {len(indexes)} indexes in {time.monotonic() - began:.1f} s", flush=True)
            for table, _ in TABLES:
                # Identity columns: move the sequence past the explicit ids we inserted.
                sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"  # noqa: S608, E501
                cursor.execute(sql)
            cursor.execute(
                "ANALYZE tickets_ticket; ANALYZE tickets_message; ANALYZE tickets_timelineevent; "
                "ANALYZE accounts_user; ANALYZE accounts_membership"
            )
    if failure:
        raise failure[0]


def load_sqlite(gen: Generator, count: int, batch: int) -> None:
    connection.ensure_connection()
    raw = connection.connection
    statements = [
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
        for table, cols in TABLES
    ]

    def write(tickets: list[Any], messages: list[Any], events: list[Any]) -> None:
        raw.execute("BEGIN IMMEDIATE")
        for statement, rows in zip(statements, (tickets, messages, events), strict=True):
            raw.executemany(statement, rows)
        raw.execute("COMMIT")

    raw.isolation_level = None
    generate_batches(gen, count, batch, write, [])
    raw.execute("ANALYZE")


def generate_batches(gen: Generator, count: int, batch: int, sink: Any, failure: list[BaseException]) -> None:
    began = time.monotonic()
    done = 0
    while done < count and not failure:
        size = min(batch, count - done)
        tickets, messages, events = [], [], []
        for _ in range(size):
            ticket, ticket_messages, ticket_events = gen.ticket()
            tickets.append(ticket)
            messages.extend(ticket_messages)
            events.extend(ticket_events)
        sink(tickets, messages, events)
        done += size
        elapsed = time.monotonic() - began
        print(f"  {done:>9,} tickets  {elapsed:7.1f} s  {done / elapsed:8,.0f} tickets/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10, help="timeline events per ticket (about)")
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--agents", type=int, default=30)
    parser.add_argument("--batch", type=int, default=20_000, help="tickets per COPY/transaction")
    parser.add_argument("--years", type=float, default=3.0, help="creation dates spread over this many years")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--keep-indexes", action="store_true", help="PostgreSQL: load with indexes in place")
    args = parser.parse_args()

    random.seed(args.seed)
    vendor = connection.vendor
    print(f"Database: {vendor} {connection.settings_dict['NAME']}", flush=True)
    overall = time.monotonic()
    customers, agents = ensure_people(args.customers, args.agents)
    print(
        f"  people: {len(customers)} customers, {sum(map(len, agents.values()))} memberships "
        f"({time.monotonic() - overall:.1f} s)",
        flush=True,
    )
    span = args.years * 365 * 86_400
    gen = Generator(
        postgres=vendor == "postgresql",
        customers=customers,
        agents=agents,
        events=args.events,
        start=time.time() - span - 30 * 86_400,
        span=span,
        count=args.tickets,
        seed=args.seed,
    )
    first = gen.ticket_id
    if vendor == "postgresql":
        load_postgres(gen, args.tickets, args.batch, args.keep_indexes)
    elif vendor == "sqlite":
        load_sqlite(gen, args.tickets, args.batch)
    else:
        raise SystemExit(f"unsupported database {vendor}")
    from tessera.tickets.routing import recount_loads

    recount_loads()  # the rows went around the services, so set the agents' open-ticket counts here
    elapsed = time.monotonic() - overall
    print(
        f"Generated {args.tickets:,} tickets (ids {first}..{gen.ticket_id - 1}), "
        f"{gen.message_id - 1:,} messages and {gen.event_id - 1:,} events in total, in {elapsed:.1f} s "
        f"({args.tickets / elapsed:,.0f} tickets/s)",
        flush=True,
    )


if __name__ == "__main__":
    main()
