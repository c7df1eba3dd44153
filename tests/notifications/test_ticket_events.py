"""Notifications caused by ticket timeline events: who, what, once, and never the actor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, Membership
from tessera.core import clock
from tessera.mail.models import OutboundEmail
from tessera.mail.outbound import deliver
from tessera.notifications.models import Notification, NotificationKind
from tessera.notifications.ticket_events import mentioned_agents, notify_for_event
from tessera.tickets import services as tickets
from tessera.tickets.models import Status, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _kinds(user) -> list[str]:
    """The kinds of notification `user` has, oldest first, leaving out being copied on a new ticket."""
    rows = Notification.objects.filter(user=user).exclude(kind=NotificationKind.TICKET_CREATED)
    return list(rows.order_by("id").values_list("kind", flat=True))


def _copies_to(user) -> int:
    return OutboundEmail.objects.filter(dedupe_key__startswith=f"notification:{user.pk}:").count()


@pytest.fixture
def people():
    customer = factories.customer("requester")
    colleague = factories.customer("colleague")
    agent = factories.agent(name="jane.doe")
    other_agent = factories.agent(name="bob")
    Department.objects.filter(slug="technical").update(auto_assign=False)  # assignments are tested explicitly
    ticket = factories.ticket(customer, cc=[colleague])
    # Being copied on the new ticket is tested on its own; start each test from an empty centre.
    Notification.objects.all().delete()
    OutboundEmail.objects.all().delete()
    return {
        "customer": customer,
        "colleague": colleague,
        "agent": agent,
        "other": other_agent,
        "ticket": ticket,
    }


def test_status_change_notifies_requester_and_cc_with_the_reason_without_email(people) -> None:
    ticket = tickets.transition_ticket(
        actor=people["agent"], ticket=people["ticket"], status=Status.WAITING, reason="Which server is it?"
    )
    for user in (people["customer"], people["colleague"]):
        notification = Notification.objects.get(user=user, kind=NotificationKind.TICKET_STATUS)
        assert notification.kind == NotificationKind.TICKET_STATUS
        assert notification.ticket_id == ticket.pk
        assert ticket.reference in notification.title
        assert notification.body == "Which server is it?"
        assert _copies_to(user) == 0  # the mail app emails customers about ticket events itself
    assert not Notification.objects.filter(user=people["agent"]).exists()  # never the actor


def test_priority_change_notifies_customers_with_the_reason(people) -> None:
    tickets.change_priority(
        actor=people["agent"], ticket=people["ticket"], priority=factories.priority("high"), reason="Outage"
    )
    notification = Notification.objects.get(user=people["customer"])
    assert notification.kind == NotificationKind.TICKET_PRIORITY
    assert notification.body == "Outage"
    assert factories.priority("high").name in notification.title


def test_agent_reply_notifies_customers_and_a_customer_reply_does_not_notify_the_author(people) -> None:
    tickets.add_reply(actor=people["agent"], ticket=people["ticket"], body="Please restart it.")
    # The first agent reply accepts the ticket: a reply and a status notification.
    assert _kinds(people["customer"]) == [NotificationKind.TICKET_REPLY, NotificationKind.TICKET_STATUS]
    assert Notification.objects.filter(user=people["customer"], body="Please restart it.").exists()
    before = Notification.objects.count()
    ticket = people["ticket"]
    ticket.refresh_from_db()
    tickets.add_reply(actor=people["customer"], ticket=ticket, body="Done, thanks.")
    assert Notification.objects.count() == before  # customer replies notify no customer


def test_resolved_and_closed_notify_customers(people) -> None:
    ticket = tickets.transition_ticket(actor=people["agent"], ticket=people["ticket"], status=Status.RESOLVED)
    tickets.transition_ticket(actor=people["agent"], ticket=ticket, status=Status.CLOSED)
    titles = list(Notification.objects.filter(user=people["customer"]).values_list("title", flat=True))
    with translation.override("en"):
        assert titles == [
            _("Ticket %(ref)s was closed") % {"ref": ticket.reference},
            _("Ticket %(ref)s was resolved") % {"ref": ticket.reference},
        ]


def test_customer_closing_their_own_ticket_is_not_notified_but_the_cc_is(people) -> None:
    tickets.transition_ticket(actor=people["customer"], ticket=people["ticket"], status=Status.CLOSED)
    assert not Notification.objects.filter(user=people["customer"]).exists()
    assert Notification.objects.filter(user=people["colleague"]).count() == 1


def test_internal_notes_never_notify_customers(people) -> None:
    tickets.add_note(actor=people["agent"], ticket=people["ticket"], body="Customer is on the old plan.")
    assert not Notification.objects.filter(user__in=[people["customer"], people["colleague"]]).exists()


def test_notifications_are_in_the_recipients_language(people) -> None:
    italian = factories.customer("italian", language="it")
    ticket = factories.ticket(italian)
    tickets.transition_ticket(actor=people["agent"], ticket=ticket, status=Status.RESOLVED)
    with translation.override("it"):
        expected = _("Ticket %(ref)s was resolved") % {"ref": ticket.reference}
    assert Notification.objects.get(user=italian).title == expected


def test_assignment_notifies_the_agent_with_an_email_copy(people) -> None:
    tickets.assign_ticket(actor=people["other"], ticket=people["ticket"], assignee=people["agent"])
    notification = Notification.objects.get(user=people["agent"])
    assert notification.kind == NotificationKind.TICKET_ASSIGNED
    assert people["other"].display_name in notification.title
    assert _copies_to(people["agent"]) == 1
    deliver(list(OutboundEmail.objects.values_list("pk", flat=True)))  # rendered and addressed now
    email = OutboundEmail.objects.get()
    assert (email.state, email.to, email.subject) == ("sent", people["agent"].email, notification.title)
    assert not Notification.objects.filter(user__in=[people["customer"], people["colleague"]]).exists()


def test_assigning_yourself_notifies_nobody(people) -> None:
    tickets.assign_ticket(actor=people["agent"], ticket=people["ticket"], assignee=people["agent"])
    assert not Notification.objects.exists()
    assert not OutboundEmail.objects.filter(dedupe_key__startswith="notification:").exists()


def test_muted_assignment_emails_still_notify_in_app(people) -> None:
    from tessera.notifications.services import set_email_preferences

    set_email_preferences(actor=people["agent"], muted=["assignments"])
    tickets.assign_ticket(actor=people["other"], ticket=people["ticket"], assignee=people["agent"])
    assert _kinds(people["agent"]) == [NotificationKind.TICKET_ASSIGNED]
    assert _copies_to(people["agent"]) == 0


def test_mention_in_a_note_notifies_the_agent_once_but_not_the_author(people) -> None:
    agent, other = people["agent"], people["other"]
    local = agent.email.split("@")[0]
    tickets.add_note(
        actor=other,
        ticket=people["ticket"],
        body=f"@{local} can you look? Also @{local}. And @{other.email.split('@')[0]} (me).",
    )
    assert _kinds(agent) == [NotificationKind.TICKET_MENTION]
    assert _copies_to(agent) == 1
    assert not Notification.objects.filter(user=other).exists()


def test_mention_by_full_name_in_brackets(people) -> None:
    people["agent"].full_name = "Jane Doe"
    people["agent"].save(update_fields=["full_name"])
    tickets.add_note(actor=people["other"], ticket=people["ticket"], body="Over to @[jane doe] please")
    assert _kinds(people["agent"]) == [NotificationKind.TICKET_MENTION]


def test_email_addresses_and_outside_agents_are_not_mentions(people) -> None:
    outsider = factories.agent(dept="billing", name="carol")
    local = people["agent"].email.split("@")[0]
    ticket = people["ticket"]
    text = f"Write to {people['agent'].email} or ask @{outsider.email.split('@')[0]}"
    assert mentioned_agents(ticket, text) == []
    assert mentioned_agents(ticket, f"(@{local})") == [people["agent"]]


def test_mentions_in_public_replies_do_not_notify(people) -> None:
    local = people["agent"].email.split("@")[0]
    tickets.add_reply(actor=people["other"], ticket=people["ticket"], body=f"@{local} will call you.")
    assert not Notification.objects.filter(user=people["agent"]).exists()


def test_processing_an_event_again_notifies_nobody_twice(people) -> None:
    tickets.transition_ticket(actor=people["agent"], ticket=people["ticket"], status=Status.RESOLVED)
    event = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.STATUS_CHANGED).get()
    before = Notification.objects.count()
    with transaction.atomic():
        assert notify_for_event(event) == 0  # a retry of the same event
        assert notify_for_event(event) == 0
    assert Notification.objects.count() == before == 2


def test_a_retried_assignment_sends_one_email(people) -> None:
    tickets.assign_ticket(actor=people["other"], ticket=people["ticket"], assignee=people["agent"])
    event = TimelineEvent.objects.get(kind=TimelineEvent.Kind.ASSIGNED, new=people["agent"].pk)
    assert notify_for_event(event) == 0
    assert _copies_to(people["agent"]) == 1


def test_a_failed_ticket_change_leaves_no_notification(people) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        tickets.transition_ticket(actor=people["agent"], ticket=people["ticket"], status=Status.RESOLVED)
        raise RuntimeError("rolled back")
    assert not Notification.objects.exists()


def test_ticket_opened_on_behalf_of_a_customer_notifies_them_and_the_cc(people) -> None:
    customer = factories.customer("caller")
    ticket = factories.ticket(customer, actor=people["agent"], cc=[people["colleague"]])
    notification = Notification.objects.get(user=customer)
    assert notification.kind == NotificationKind.TICKET_CREATED
    assert notification.title == f"Ticket {ticket.reference} was opened for you"
    copied = Notification.objects.get(user=people["colleague"])
    assert copied.title == f"You are copied on ticket {ticket.reference}"
    # Opening your own ticket notifies nobody.
    factories.ticket(people["customer"])
    assert not Notification.objects.filter(user=people["customer"]).exists()


def test_sla_breach_found_by_the_sweep_notifies_the_assignee_with_email(people) -> None:
    from tessera.sla import services as sla
    from tessera.sla.models import SlaEscalation

    tickets.assign_ticket(actor=people["other"], ticket=people["ticket"], assignee=people["agent"])
    later = clock.now() + timedelta(days=30)
    while sla.sweep_due(later):
        pass
    assert SlaEscalation.objects.filter(ticket=people["ticket"], level="breach").exists()
    breaches = Notification.objects.filter(user=people["agent"], kind=NotificationKind.SLA_BREACHED)
    assert breaches.count() == SlaEscalation.objects.filter(ticket=people["ticket"], level="breach").count()
    assert people["ticket"].reference in breaches.first().title  # type: ignore[union-attr]
    assert _copies_to(people["agent"]) == 1 + breaches.count()  # the assignment and each breach
    assert not Notification.objects.filter(
        user__in=[people["customer"], people["colleague"]], kind__startswith="sla"
    ).exists()


def test_sla_rule_asking_for_the_leads_notifies_them_besides_the_assignee(people) -> None:
    from tessera.tickets.events import record_event
    from tessera.tickets.models import Channel

    lead = factories.agent(name="lead", lead=True)
    tickets.assign_ticket(actor=people["other"], ticket=people["ticket"], assignee=people["agent"])
    with transaction.atomic():
        record_event(
            ticket=people["ticket"],
            actor=None,
            channel=Channel.SYSTEM,
            kind=TimelineEvent.Kind.SLA_WARNING,
            new={
                "target": "resolution",
                "due": clock.now().isoformat(),
                "cycle": 0,
                "actions": ["notify_lead"],
            },
            is_public=False,
        )
    assert NotificationKind.SLA_WARNING in _kinds(people["agent"])
    assert _kinds(lead) == [NotificationKind.SLA_WARNING]


def test_sla_breach_on_an_unassigned_ticket_notifies_the_department_leads(people) -> None:
    from tessera.tickets.events import record_event
    from tessera.tickets.models import Channel

    lead = factories.agent(name="lead", lead=True)
    assert Membership.objects.filter(agent=lead, is_lead=True).exists()
    with transaction.atomic():
        record_event(
            ticket=people["ticket"],
            actor=None,
            channel=Channel.SYSTEM,
            kind=TimelineEvent.Kind.SLA_BREACHED,
            new={"target": "resolution", "due": clock.now().isoformat(), "cycle": 0},
            is_public=False,
        )
    assert _kinds(lead) == [NotificationKind.SLA_BREACHED]
    assert not Notification.objects.filter(user=people["agent"]).exists()
    assert _copies_to(lead) == 1
