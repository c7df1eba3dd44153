"""tessera.tickets.access: every queryset form agrees with its instance form, for random people and tickets
built through the real services; and a customer is shown the same history by the portal and the API.

Each hypothesis example runs in a savepoint that is rolled back, so examples do not see each other's rows.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.accounts.models import Membership, User
from tessera.core.errors import DomainError
from tessera.notifications.models import Notification, NotificationKind
from tessera.notifications.services import notify
from tessera.portal.views import PUBLIC_CHANGES
from tessera.tickets import access, services
from tessera.tickets.models import Attachment, Message, Status, Ticket, TimelineEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

DEPARTMENTS = ("technical", "billing", "abuse")
ROLES = ("customer", "member", "manager", "agent", "admin")

# One step on a ticket: what happens, who does it (an index into the people who may), and a choice.
STEPS = st.tuples(
    st.sampled_from(
        ("reply", "customer_reply", "note", "file", "move", "to_note", "status", "assign", "cc", "notify")
    ),
    st.integers(0, 20),
    st.booleans(),
)

PLAN = st.fixed_dictionaries(
    {
        "people": st.lists(
            st.tuples(
                st.sampled_from(ROLES),
                st.lists(st.sampled_from(DEPARTMENTS), max_size=3, unique=True),
                st.integers(0, 1),  # organisation
            ),
            min_size=2,
            max_size=7,
        ),
        "tickets": st.lists(
            st.tuples(
                st.integers(0, 20),  # requester
                st.sampled_from(("self", "desk", "colleague")),  # filed by
                st.sampled_from(DEPARTMENTS),
                st.lists(STEPS, max_size=6),
            ),
            min_size=1,
            max_size=4,
        ),
        "merges": st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=2),
        "leave": st.lists(st.tuples(st.integers(0, 20), st.sampled_from(DEPARTMENTS)), max_size=2),
        "deactivate": st.lists(st.integers(0, 20), max_size=2),
        "look": st.lists(st.tuples(st.integers(0, 20), st.integers(0, 3)), max_size=2),
    }
)


@dataclass
class World:
    desk: User
    people: list[User] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)

    def customers(self) -> list[User]:
        return [p for p in self.people if not p.is_agent]

    def agents(self) -> list[User]:
        return [p for p in self.people if p.is_agent]


def _file(index: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"shot-{index}.png", f.PNG + bytes([index % 256]))


def _pick[T](items: list[T], index: int) -> T | None:
    return items[index % len(items)] if items else None


def _build(plan: dict[str, Any]) -> World:
    orgs = [f.organisation("Access A"), f.organisation("Access B")]
    world = World(desk=f.admin())
    for role, departments, org in plan["people"]:
        if role in ("agent", "admin"):
            person = f.agent(None) if role == "agent" else f.admin()
            for slug in departments:
                Membership.objects.create(department=f.department(slug), agent=person)
        elif role == "customer":
            person = f.customer()
        else:
            person = f.customer(org=orgs[org], manager=role == "manager")
        world.people.append(person)
    if not world.customers():
        world.people.append(f.customer(org=orgs[0]))
    customers = world.customers()
    for number, (requester_at, filer, department, steps) in enumerate(plan["tickets"]):
        requester = _pick(customers, requester_at)
        assert requester is not None
        colleagues = [
            c for c in customers if c.organisation_id and c.organisation_id == requester.organisation_id
        ]
        actor = {"self": requester, "desk": world.desk, "colleague": _pick(colleagues, number) or requester}[
            filer
        ]
        ticket = f.ticket(
            requester, actor=actor, dept=department, files=[_file(number)] if number % 2 else []
        )
        for step, (what, who, flag) in enumerate(steps):
            ticket = Ticket.objects.get(pk=ticket.pk)
            # A step the service refuses (on a closed ticket, say) writes nothing.
            with contextlib.suppress(DomainError):
                _step(world, ticket, what, who, flag, step)
        world.tickets.append(Ticket.objects.get(pk=ticket.pk))
    for source_at, target_at in plan["merges"]:
        source, target = _pick(world.tickets, source_at), _pick(world.tickets, target_at)
        assert source is not None and target is not None
        with contextlib.suppress(DomainError):
            services.merge_tickets(
                actor=world.desk,
                source=Ticket.objects.get(pk=source.pk),
                target=Ticket.objects.get(pk=target.pk),
                confirm_different_requesters=True,
            )
    for agent_at, slug in plan["leave"]:
        agent = _pick(world.agents(), agent_at)
        if agent is not None:
            Membership.objects.filter(agent=agent, department__slug=slug).delete()
    for person_at in plan["deactivate"]:
        person = _pick(world.people, person_at)
        assert person is not None
        person.is_active = False
        person.save(update_fields=["is_active"])
    Notification.objects.create(
        user=world.people[0], kind=NotificationKind.ANNOUNCEMENT, title="Not about a ticket", dedupe_key="x"
    )
    return world


def _step(world: World, ticket: Ticket, what: str, who: int, flag: bool, step: int) -> None:
    files = [_file(step + 10)] if flag else []
    people = [ticket.requester, *ticket.cc.all()]
    if what == "reply":
        services.add_reply(actor=world.desk, ticket=ticket, body=f"Answer {step}", files=files)
    elif what == "customer_reply":
        services.add_reply(
            actor=_pick(people, who) or ticket.requester, ticket=ticket, body="Me", files=files
        )
    elif what == "note":
        services.add_note(actor=world.desk, ticket=ticket, body=f"Internal {step}", files=files)
    elif what == "file":
        services.add_attachments(actor=world.desk, ticket=ticket, files=[_file(step + 20)])
    elif what == "move":
        department = f.department(DEPARTMENTS[who % len(DEPARTMENTS)])
        services.change_department(actor=world.desk, ticket=ticket, department=department, reason="Moved")
    elif what == "to_note":
        # A reply later made internal (as the admin can): it and its files must leave the customer's view.
        reply = ticket.messages.filter(kind=Message.Kind.REPLY).order_by("-id").first()
        if reply is not None:
            reply.kind = Message.Kind.NOTE
            reply.save(update_fields=["kind"])
    elif what == "status":
        target = Status.WAITING if flag else Status.RESOLVED
        services.transition_ticket(actor=world.desk, ticket=ticket, status=target, reason="Which server?")
    elif what == "assign":
        services.assign_ticket(actor=world.desk, ticket=ticket, assignee=_pick(world.agents(), who))
    elif what == "cc":
        contact = _pick(world.customers(), who)
        if contact is not None:
            services.set_cc(actor=world.desk, ticket=ticket, contacts=[contact])
    elif what == "notify":
        person = _pick(world.people, who)
        assert person is not None
        notify(
            person,
            kind=NotificationKind.TICKET_REPLY,
            title="About a ticket",
            ticket=ticket,
            dedupe_key=f"t{ticket.pk}-{step}",
            email=False,
        )


def _check_agreement(world: World) -> None:
    everyone = list(User.objects.filter(pk__in=[world.desk.pk, *(p.pk for p in world.people)]))
    tickets = list(Ticket.objects.filter(pk__in=[t.pk for t in world.tickets]))
    messages = list(Message.objects.filter(ticket__in=tickets).select_related("ticket", "merged_from"))
    events = list(TimelineEvent.objects.filter(ticket__in=tickets).select_related("ticket", "message"))
    attachments = list(
        Attachment.objects.filter(ticket__in=tickets).select_related("ticket", "message", "merged_from")
    )
    notifications = list(Notification.objects.filter(user__in=everyone).select_related("ticket"))
    for user in everyone:
        who = (user.email, user.role, user.is_active)
        visible = set(access.visible_tickets(user).values_list("pk", flat=True))
        assert visible & {t.pk for t in tickets} == {
            t.pk for t in tickets if access.can_view_ticket(user, t)
        }, who
        for ticket in tickets:
            assert access.can_work_on(user, ticket) == (user.is_agent and ticket.pk in visible), who
            assert access.can_work_on(user, ticket) == access.staff_for(ticket).filter(pk=user.pk).exists(), (
                who
            )
            shown = set(access.visible_messages(user, ticket).values_list("pk", flat=True))
            expected = {
                m.pk
                for m in messages
                if access.listed_under(user, m) == ticket.pk and access.can_view_message(user, m)
            }
            assert shown == expected, (who, ticket.pk)
            shown = set(access.visible_events(user, ticket).values_list("pk", flat=True))
            expected = {e.pk for e in events if e.ticket_id == ticket.pk and access.can_view_event(user, e)}
            assert shown == expected, (who, ticket.pk)
            shown = set(access.visible_attachments(user, ticket).values_list("pk", flat=True))
            expected = {
                a.pk
                for a in attachments
                if access.listed_under(user, a) == ticket.pk and access.can_download(user, a)
            }
            assert shown == expected, (who, ticket.pk)
        downloadable = set(access.downloadable_attachments(user).values_list("pk", flat=True))
        assert downloadable & {a.pk for a in attachments} == {
            a.pk for a in attachments if access.can_download(user, a)
        }, who
        assert set(access.visible_notifications(user).values_list("pk", flat=True)) == {
            n.pk for n in notifications if access.can_view_notification(user, n)
        }, who
        # What the rules promise, beyond agreeing with each other.
        if not user.is_active:
            assert not visible and not downloadable, who
        if not user.is_agent:
            assert not any(m.kind == Message.Kind.NOTE for m in messages if access.can_view_message(user, m))
            assert not any(
                a.message and a.message.kind == Message.Kind.NOTE for a in attachments if a.pk in downloadable
            )
            assert not any(
                e.kind == TimelineEvent.Kind.ASSIGNED for e in events if access.can_view_event(user, e)
            )


def _check_same_history(world: World, look: list[tuple[int, int]]) -> None:
    """The portal and the API show a customer the same replies, changes and files."""
    for person_at, ticket_at in look:
        customers = [u for u in User.objects.filter(pk__in=[p.pk for p in world.customers()], is_active=True)]
        customer, ticket = _pick(customers, person_at), _pick(world.tickets, ticket_at)
        if customer is None or ticket is None or not access.can_view_ticket(customer, ticket):
            continue
        api = Client().get(
            f"/api/v1/tickets/{ticket.pk}", headers={"Authorization": f"Bearer {f.token_for(customer)}"}
        )
        assert api.status_code == 200, api.content
        data = api.json()
        browser = Client()
        browser.force_login(customer)
        page = browser.get(reverse("portal_ticket", args=[ticket.reference]))
        assert page.status_code == 200
        html = page.content.decode()
        files_url = re.escape(reverse("portal_attachment", args=[0])).replace("0", r"(\d+)")

        assert {int(n) for n in re.findall(r'id="message-(\d+)"', html)} == {
            m["id"] for m in data["messages"]
        }
        assert all(m["kind"] == Message.Kind.REPLY for m in data["messages"])
        assert {int(n) for n in re.findall(files_url, html)} == {a["id"] for a in data["attachments"]}
        lines = {e["id"] for e in data["timeline"] if e["kind"] in PUBLIC_CHANGES}
        assert {int(n) for n in re.findall(r'id="event-(\d+)"', html)} == lines
        # The API's other events are those the portal shows by what they point at.
        for event in data["timeline"]:
            assert event["kind"] in access.CUSTOMER_EVENT_KINDS
            if event["kind"] == TimelineEvent.Kind.ATTACHMENT_ADDED:
                moved = not Attachment.objects.filter(pk=event["new"]["id"], ticket=ticket).exists()
                assert moved or event["new"]["id"] in {a["id"] for a in data["attachments"]}
            if event["kind"] == TimelineEvent.Kind.REPLIED and event["message_id"]:
                moved = not Message.objects.filter(pk=event["message_id"], ticket=ticket).exists()
                assert moved or event["message_id"] in {m["id"] for m in data["messages"]}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(plan=PLAN)
def test_every_form_of_every_rule_agrees(plan: dict[str, Any]) -> None:
    with transaction.atomic():
        world = _build(plan)
        _check_agreement(world)
        _check_same_history(world, plan["look"])
        transaction.set_rollback(True)
