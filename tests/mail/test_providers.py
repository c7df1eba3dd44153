"""Outbound mail through anymail's real Mailgun and Mandrill backends against a loopback stand-in for their
APIs, and their signed tracking webhooks (bounces, complaints, deliveries) posted to our URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tessera import conf
from tessera.core import clock
from tessera.core.worker import run_pending_tasks
from tessera.mail import ids
from tessera.mail.inbound.store import store_raw
from tessera.mail.models import BouncingAddress, DeliveryEvent, DeliveryStatus, OutboundEmail
from tessera.mail.outbound import EmailSpec, queue_email, queue_emails
from tessera.notifications.models import NotificationAddress
from tessera.tickets.models import TimelineEvent
from tests import factories
from tests.mail import corpus
from tests.mail.providers import ProviderAPI

pytestmark = pytest.mark.django_db(transaction=True)

MAILGUN_KEY = "mailgun-signing-key-for-tests"
MANDRILL_KEY = "mandrill-webhook-key-for-tests"
MANDRILL_URL = "http://testserver/mail/anymail/mandrill/"
ALERTS = "carla.alerts@example.com"


@pytest.fixture
def provider_api() -> Iterator[ProviderAPI]:
    server = ProviderAPI()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _webhooks(settings: Any) -> None:
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
        "MANDRILL_WEBHOOK_URL": MANDRILL_URL,
        "WEBHOOK_SECRET": "hook:secret",
    }


def _use(esp: str, api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Configure outbound mail the way a deployment does: through TESSERA_EMAIL_URL."""
    url = {
        "mailgun": f"mailgun://key-123@mg.tessera.test?api_url={api.url}/v3",
        "mandrill": f"mandrill://md-key-456@mandrill?api_url={api.url}/api/1.0",
    }[esp]
    monkeypatch.setenv("TESSERA_EMAIL_URL", url)
    settings.MAILERS = {"default": conf.env_mailer("TESSERA_EMAIL_URL")}


def _sent_ticket_email(esp: str, api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A new ticket for a customer whose support mail goes to a confirmed notification address; the
    'ticket received' email is delivered through the provider. Returns (ticket, outbound row, API request)."""
    _use(esp, api, settings, monkeypatch)
    customer = factories.customer("carla")
    NotificationAddress.objects.create(user=customer, kind="support", email=ALERTS, confirmed_at=clock.now())
    ticket = factories.ticket(customer)
    run_pending_tasks()
    row = OutboundEmail.objects.get(to=ALERTS)
    [request] = [r for r in api.requests if ALERTS in json.dumps(r.fields or r.json)]
    return ticket, row, request


@pytest.mark.parametrize("esp", ["mailgun", "mandrill"])
def test_ticket_email_is_sent_through_the_provider_api(
    esp: str, provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket, row, request = _sent_ticket_email(esp, provider_api, settings, monkeypatch)
    reply_to = ids.reply_address("support@tessera.localhost", ticket.pk)
    if esp == "mailgun":
        assert request.path == "/v3/mg.tessera.test/messages"
        assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"api:key-123").decode()
        fields = request.fields
        assert fields["to"] == [ALERTS]
        assert fields["subject"] == [row.subject]
        assert fields["h:Message-Id"] == [row.message_id]
        assert fields["h:Reply-To"] == [reply_to]
        assert fields["h:Auto-Submitted"] == ["auto-generated"]
        provider_id = request.answer["id"]
    else:
        assert request.path == "/api/1.0/messages/send.json"
        message = request.json["message"]
        assert request.json["key"] == "md-key-456"
        assert [r["email"] for r in message["to"]] == [ALERTS]
        assert message["subject"] == row.subject
        assert message["headers"]["Message-ID"] == row.message_id
        assert message["headers"]["Reply-To"] == reply_to
        provider_id = request.answer[0]["_id"]
    assert ticket.reference in row.subject
    assert ids.ticket_in_addresses([reply_to]) == ticket.pk  # the Reply-To is signed for this ticket
    assert ids.tickets_in_message_ids([row.message_id]) == [ticket.pk]
    assert row.state == OutboundEmail.State.SENT
    assert row.esp_message_id == provider_id
    assert row.attempt_log[-1]["esp_message_id"] == provider_id


@pytest.mark.parametrize("esp", ["mailgun", "mandrill"])
def test_each_email_of_a_task_keeps_its_own_provider_id(
    esp: str, provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(esp, provider_api, settings, monkeypatch)
    addresses = [f"news{i}@example.com" for i in range(3)]
    queue_emails([EmailSpec(to=a, subject="News", text="t", dedupe_key=f"news:{a}") for a in addresses])
    run_pending_tasks()
    given = {}
    for request in provider_api.requests:
        if esp == "mailgun":
            given[request.fields["to"][0]] = request.answer["id"]
        else:
            given[request.json["message"]["to"][0]["email"]] = request.answer[0]["_id"]
    assert sorted(given) == addresses and len(set(given.values())) == 3
    for row in OutboundEmail.objects.filter(to__in=addresses):
        assert row.state == OutboundEmail.State.SENT
        assert row.esp_message_id == given[row.to] == row.attempt_log[-1]["esp_message_id"]


# Mailgun tracking (JSON webhooks signed with HMAC-SHA256 of timestamp + token) ----------------------------


def _basic() -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(b"hook:secret").decode()}


def _mailgun_event(event_data: dict[str, Any], *, key: str = MAILGUN_KEY) -> Any:
    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    body = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {"id": secrets.token_hex(8), "timestamp": time.time(), **event_data},
    }
    return Client().post(
        "/mail/anymail/mailgun/tracking/", json.dumps(body), content_type="application/json", headers=_basic()
    )


def _mailgun_failed(message_id: str, recipient: str = ALERTS, **extra: Any) -> dict[str, Any]:
    return {
        "event": "failed",
        "severity": "permanent",
        "reason": "bounce",
        "recipient": recipient,
        "message": {"headers": {"message-id": message_id.strip("<>"), "to": recipient}},
        "delivery-status": {
            "code": 550,
            "message": "5.1.1 The email account that you tried to reach does not exist.",
            "description": "Not delivered",
        },
        **extra,
    }


def test_mailgun_hard_bounce_marks_the_email_and_the_address_undeliverable(
    provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket, row, _request = _sent_ticket_email("mailgun", provider_api, settings, monkeypatch)
    response = _mailgun_event(_mailgun_failed(row.esp_message_id))
    assert response.status_code == 200, response.content
    # Agents see it on the ticket the email was about.
    [bounced] = TimelineEvent.objects.filter(ticket=ticket, kind=TimelineEvent.Kind.EMAIL_BOUNCED)
    assert ALERTS in bounced.reason and "does not exist" in bounced.reason and not bounced.is_public

    row.refresh_from_db()
    assert row.delivery_status == DeliveryStatus.BOUNCED
    assert "does not exist" in row.delivery_reason
    [event] = DeliveryEvent.objects.all()
    assert (event.esp, event.event_type, event.outbound_id, event.recipient) == (
        "mailgun",
        "bounced",
        row.pk,
        ALERTS,
    )
    assert BouncingAddress.objects.filter(email=ALERTS).exists()
    address = NotificationAddress.objects.get(email=ALERTS)
    assert address.undeliverable_at is not None and "does not exist" in address.undeliverable_reason
    # Nothing more is sent to it.
    again = queue_email(to=ALERTS, subject="More", text="x", dedupe_key="after-bounce")
    assert again is not None
    run_pending_tasks()
    again.refresh_from_db()
    assert again.state == OutboundEmail.State.SUPPRESSED

    # An older "delivered" event arriving late does not hide the bounce.
    late = _mailgun_event(
        {
            "event": "delivered",
            "timestamp": time.time() - 3600,
            "recipient": ALERTS,
            "message": {"headers": {"message-id": row.esp_message_id.strip("<>")}},
        }
    )
    assert late.status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == DeliveryStatus.BOUNCED

    # When the address writes to us again it works again.
    store_raw(corpus.plain(sender=f"Carla <{ALERTS}>", subject="I am back"), source="pipe")
    run_pending_tasks()
    address.refresh_from_db()
    assert address.undeliverable_at is None
    assert not BouncingAddress.objects.filter(email=ALERTS).exists()


def test_mailgun_delivery_and_complaint_by_our_own_message_id(
    provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ticket, row, _request = _sent_ticket_email("mailgun", provider_api, settings, monkeypatch)
    delivered = {
        "event": "delivered",
        "recipient": ALERTS,
        "message": {"headers": {"message-id": row.message_id.strip("<>")}},
        "delivery-status": {"code": 250, "message": "OK"},
    }
    assert _mailgun_event(delivered).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == DeliveryStatus.DELIVERED
    assert not BouncingAddress.objects.exists()

    complained = {"event": "complained", "recipient": ALERTS, "message": delivered["message"]}
    assert _mailgun_event(complained).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == DeliveryStatus.COMPLAINED
    assert NotificationAddress.objects.get(email=ALERTS).undeliverable_at is not None


def test_mailgun_forged_signature_is_refused_and_unknown_ids_are_recorded_and_ignored(
    provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ticket, row, _request = _sent_ticket_email("mailgun", provider_api, settings, monkeypatch)
    forged = _mailgun_event(_mailgun_failed(row.esp_message_id), key="not-the-key")
    assert forged.status_code == 400
    assert not DeliveryEvent.objects.exists()

    unknown = _mailgun_event(
        _mailgun_failed("<nobody-sent-this@elsewhere.example>", recipient="x@example.net")
    )
    assert unknown.status_code == 200
    [event] = DeliveryEvent.objects.all()
    assert event.outbound is None and event.message_id == "<nobody-sent-this@elsewhere.example>"
    no_id = _mailgun_event({"event": "failed", "severity": "permanent", "recipient": "y@example.net"})
    assert no_id.status_code == 200
    assert DeliveryEvent.objects.filter(outbound=None).count() == 2
    assert not BouncingAddress.objects.exists()
    row.refresh_from_db()
    assert row.delivery_status == ""


# Mandrill tracking (form post signed with HMAC-SHA1 of the URL and the parameters) --------------------------


def _mandrill_events(events: list[dict[str, Any]], *, key: str = MANDRILL_KEY) -> Any:
    payload = json.dumps(events)
    signed = MANDRILL_URL + "mandrill_events" + payload
    signature = base64.b64encode(hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    return Client().post(
        "/mail/anymail/mandrill/",
        {"mandrill_events": payload},
        headers={**_basic(), "X-Mandrill-Signature": signature},
    )


def _mandrill(event: str, message_id: str, **msg: Any) -> dict[str, Any]:
    return {
        "event": event,
        "_id": message_id,
        "ts": int(time.time()),
        "msg": {"_id": message_id, "email": ALERTS, "state": "bounced", **msg},
    }


def test_mandrill_soft_bounce_defers_hard_bounce_and_spam_mark_undeliverable(
    provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ticket, row, _request = _sent_ticket_email("mandrill", provider_api, settings, monkeypatch)

    soft = _mandrill("soft_bounce", row.esp_message_id, diag="452 4.2.2 Mailbox full")
    assert _mandrill_events([soft]).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == DeliveryStatus.DEFERRED and "Mailbox full" in row.delivery_reason
    assert not BouncingAddress.objects.exists()

    hard = _mandrill("hard_bounce", row.esp_message_id, diag="smtp;550 5.1.1 no such user")
    hard["ts"] += 1
    assert _mandrill_events([hard]).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == DeliveryStatus.BOUNCED and "no such user" in row.delivery_reason
    assert NotificationAddress.objects.get(email=ALERTS).undeliverable_at is not None
    assert BouncingAddress.objects.get(email=ALERTS).bounces == 1

    spam = _mandrill("spam", row.esp_message_id)
    spam["ts"] += 2
    assert _mandrill_events([spam]).status_code == 200
    row.refresh_from_db()
    assert row.delivery_status == DeliveryStatus.COMPLAINED
    assert list(row.delivery_events.order_by("pk").values_list("event_type", flat=True)) == [
        "deferred",
        "bounced",
        "complained",
    ]


def test_mandrill_forged_and_unknown_events(
    provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ticket, row, _request = _sent_ticket_email("mandrill", provider_api, settings, monkeypatch)
    assert _mandrill_events([_mandrill("hard_bounce", row.esp_message_id)], key="wrong").status_code == 400
    assert not DeliveryEvent.objects.exists()
    assert _mandrill_events([_mandrill("hard_bounce", "0123456789abcdef")]).status_code == 200
    assert DeliveryEvent.objects.get().outbound is None
    assert not BouncingAddress.objects.exists()
    row.refresh_from_db()
    assert row.delivery_status == ""


def test_admins_see_delivery_reports(
    provider_api: ProviderAPI, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ticket, row, _request = _sent_ticket_email("mailgun", provider_api, settings, monkeypatch)
    _mailgun_event(_mailgun_failed(row.esp_message_id))
    admin = factories.admin()
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    listing = client.get("/admin/mail/outboundemail/?delivery_status=bounced").content.decode()
    assert ALERTS in listing and "does not exist" in listing
    detail = client.get(f"/admin/mail/outboundemail/{row.pk}/change/").content.decode()
    assert "Not delivered" in detail
    assert client.get("/admin/mail/deliveryevent/").status_code == 200
    addresses = client.get("/admin/notifications/notificationaddress/").status_code
    assert addresses == 200
