"""The public contract: notify / notify_many, exactly once, email copies routed and muted as chosen."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.mail.models import OutboundEmail
from tessera.mail.outbound import deliver
from tessera.notifications import services
from tessera.notifications.models import MessageKind, Notification, NotificationAddress, NotificationKind
from tests import factories

pytestmark = pytest.mark.django_db


def _confirm(user, kind: str, email: str) -> None:
    NotificationAddress.objects.create(user=user, kind=kind, email=email, confirmed_at=clock.now())


def _delivered() -> list[OutboundEmail]:
    """Deliver what is queued (email copies are rendered then) and return every email as it was sent."""
    deliver(list(OutboundEmail.objects.values_list("pk", flat=True)))
    emails = list(OutboundEmail.objects.order_by("pk"))
    assert {email.state for email in emails} <= {OutboundEmail.State.SENT}
    return emails


def test_notify_creates_one_notification_and_one_email_copy() -> None:
    user = factories.customer()
    notification = services.notify(
        user,
        kind=NotificationKind.INCIDENT,
        title="Frankfurt: partial outage",
        body="We are investigating.",
        url="/status/incidents/7",
        dedupe_key="incident:7:posted",
    )
    assert notification is not None
    assert notification.read_at is None
    assert list(Notification.objects.filter(user=user).values_list("title", "url")) == [
        ("Frankfurt: partial outage", "/status/incidents/7")
    ]
    queued = OutboundEmail.objects.get()
    assert queued.render == {
        "template": "notification/notification",
        "user": user.pk,
        "email": user.email,
        "kind": "support",
        "inputs": {
            "language": "en",
            "notification": {
                "title": "Frankfurt: partial outage",
                "body": "We are investigating.",
                "url": "/status/incidents/7",
            },
        },
    }
    assert queued.to == queued.subject == queued.text == ""  # nothing rendered in the caller's transaction
    [email] = _delivered()
    assert email.to == user.email
    assert email.subject == "Frankfurt: partial outage"
    assert "We are investigating." in email.text
    assert "/status/incidents/7" in email.text
    assert email.dedupe_key == services.email_dedupe_key(user, "incident:7:posted")


def test_notify_twice_with_the_same_key_creates_nothing_the_second_time() -> None:
    user = factories.customer()
    first = services.notify(user, kind=NotificationKind.INCIDENT, title="A", dedupe_key="k")
    with transaction.atomic():  # the duplicate must not break the caller's transaction
        second = services.notify(user, kind=NotificationKind.INCIDENT, title="A again", dedupe_key="k")
        assert Notification.objects.count() == 1
    assert first is not None and second is None
    assert OutboundEmail.objects.count() == 1


def test_the_same_key_for_two_users_notifies_both() -> None:
    one, two = factories.customer(), factories.customer()
    for user in (one, two):
        services.notify(user, kind=NotificationKind.MAINTENANCE, title="Window", dedupe_key="m:1")
    assert Notification.objects.filter(dedupe_key="m:1").count() == 2
    assert OutboundEmail.objects.count() == 2


def test_notify_rolls_back_with_the_callers_transaction() -> None:
    user = factories.customer()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.notify(user, kind=NotificationKind.INCIDENT, title="A", dedupe_key="k")
        raise RuntimeError("the caller failed")
    assert not Notification.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_email_false_creates_only_the_in_app_notification() -> None:
    user = factories.customer()
    services.notify(user, kind=NotificationKind.TICKET_STATUS, title="A", dedupe_key="k", email=False)
    assert Notification.objects.count() == 1
    assert not OutboundEmail.objects.exists()


def test_email_copy_goes_to_the_confirmed_address_of_the_message_kind() -> None:
    user = factories.customer()
    _confirm(user, MessageKind.BILLING, "invoices@example.com")
    _confirm(user, MessageKind.ABUSE, "abuse@example.com")
    NotificationAddress.objects.create(user=user, kind=MessageKind.SUPPORT, email="pending@example.com")
    services.notify(
        user, kind=NotificationKind.ANNOUNCEMENT, title="Invoice", dedupe_key="b", message_kind="billing"
    )
    services.notify(
        user, kind=NotificationKind.ANNOUNCEMENT, title="Abuse", dedupe_key="a", message_kind="abuse"
    )
    services.notify(user, kind=NotificationKind.ANNOUNCEMENT, title="Support", dedupe_key="s")
    sent = {email.subject: email.to for email in _delivered()}
    # An unconfirmed address is never used: support still goes to the account address.
    assert sent == {"Invoice": "invoices@example.com", "Abuse": "abuse@example.com", "Support": user.email}


def test_muted_announcements_get_no_email_but_still_the_notification() -> None:
    user = factories.customer()
    services.set_email_preferences(actor=user, muted=["announcements"])
    services.notify(user, kind=NotificationKind.INCIDENT, title="Outage", dedupe_key="i:1")
    assert Notification.objects.filter(user=user).count() == 1
    assert not OutboundEmail.objects.exists()


def test_ticket_updates_cannot_be_muted() -> None:
    user = factories.customer()
    with pytest.raises(services.ValidationFailed):
        services.set_email_preferences(actor=user, muted=["ticket_updates"])
    assert services.email_allowed(user, NotificationKind.TICKET_STATUS)
    assert services.email_allowed(user, NotificationKind.TICKET_PRIORITY)


def test_customers_cannot_mute_agent_only_categories() -> None:
    user = factories.customer()
    with pytest.raises(services.ValidationFailed):
        services.set_email_preferences(actor=user, muted=["sla"])
    with pytest.raises(services.ValidationFailed):
        services.set_email_preferences(actor=user, muted=["nonsense"])
    assert not services.muted_categories(user)


def test_agents_can_mute_assignment_emails() -> None:
    agent = factories.agent()
    services.set_email_preferences(actor=agent, muted=["assignments"])
    assert not services.email_allowed(agent, NotificationKind.TICKET_ASSIGNED)
    assert services.email_allowed(agent, NotificationKind.TICKET_MENTION)


def test_unknown_kind_is_refused() -> None:
    user = factories.customer()
    with pytest.raises(ValueError, match="Unknown notification kind"):
        services.notify(user, kind="incident_posted", title="A", dedupe_key="k")
    with pytest.raises(ValueError, match="Unknown message kind"):
        services.notify(user, kind=NotificationKind.INCIDENT, title="A", dedupe_key="k", message_kind="sales")
    assert not Notification.objects.exists()


def test_inactive_users_are_not_notified() -> None:
    user = factories.customer()
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert services.notify(user, kind=NotificationKind.INCIDENT, title="A", dedupe_key="k") is None
    assert not Notification.objects.exists()


def test_long_titles_are_clipped_not_refused() -> None:
    user = factories.customer()
    notification = services.notify(user, kind=NotificationKind.INCIDENT, title="x" * 1000, dedupe_key="k")
    assert notification is not None
    assert len(notification.title) == services.TITLE_MAX


def test_email_copy_is_in_the_recipients_language() -> None:
    user = factories.customer(language="it")
    services.notify(user, kind=NotificationKind.INCIDENT, title="Guasto", url="/status/", dedupe_key="k")
    # Rendered by the delivery task, in the language the notification was written in, whatever the
    # recipient's language is by then (the title and body were written in it).
    User.objects.filter(pk=user.pk).update(language="fr")
    [email] = _delivered()
    with translation.override("it"):
        expected = _("All your notifications:")
    assert expected in email.text
    assert email.subject == "Guasto"


# notify_many ---------------------------------------------------------------------------------------------


def _render(user):
    return (_("Planned maintenance"), f"{user.language}:{user.email}")


def test_notify_many_is_idempotent_and_counts_only_new() -> None:
    users = [factories.customer() for _ in range(5)]
    kwargs = {
        "kind": NotificationKind.MAINTENANCE,
        "render": _render,
        "url": "/status/maintenance/3",
        "dedupe_key": "maintenance:3",
        "incident_id": 3,
    }
    assert services.notify_many(users[:3], **kwargs) == 3
    assert services.notify_many(users, **kwargs) == 2  # a retry that reaches further: only the rest
    assert services.notify_many(users, **kwargs) == 0
    assert Notification.objects.filter(dedupe_key="maintenance:3", incident_id=3).count() == 5
    assert OutboundEmail.objects.count() == 5


def test_notify_many_renders_in_each_language_and_routes_and_mutes() -> None:
    italian = factories.customer(language="it")
    french = factories.customer(language="fr")
    muted = factories.customer()
    services.set_email_preferences(actor=muted, muted=["announcements"])
    _confirm(french, MessageKind.SUPPORT, "ops@fr.example.com")
    created = services.notify_many(
        User.objects.filter(pk__in=[italian.pk, french.pk, muted.pk]),
        kind=NotificationKind.INCIDENT,
        render=_render,
        dedupe_key="incident:9",
    )
    assert created == 3
    bodies = dict(Notification.objects.values_list("user_id", "body"))
    assert bodies[italian.pk].startswith("it:") and bodies[french.pk].startswith("fr:")
    with translation.override("it"):
        italian_title = _("Planned maintenance")
    assert Notification.objects.get(user=italian).title == italian_title
    assert sorted(OutboundEmail.objects.values_list("to", flat=True)) == sorted(
        [italian.email, "ops@fr.example.com"]
    )


def test_notify_many_with_email_false_queues_nothing() -> None:
    users = [factories.customer() for _ in range(2)]
    services.notify_many(
        users, kind=NotificationKind.ANNOUNCEMENT, render=_render, dedupe_key="a:1", email=False
    )
    assert Notification.objects.count() == 2
    assert not OutboundEmail.objects.exists()
