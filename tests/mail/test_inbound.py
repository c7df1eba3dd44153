"""Inbound processing: new tickets, sender verification, content, loop and noise safety, failures."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from tessera.accounts.models import User
from tessera.core.worker import run_pending_tasks
from tessera.mail.inbound.parse import decode_words
from tessera.mail.inbound.store import MessageRefused, store_raw
from tessera.mail.models import BouncingAddress, InboundMessage, Mailbox, OutboundEmail
from tessera.tickets.models import Attachment, Ticket, TimelineEvent
from tests import factories
from tests.mail import corpus

pytestmark = pytest.mark.django_db(transaction=True)
Status = InboundMessage.Status


def receive(raw: bytes, **kwargs: Any) -> InboundMessage:
    kwargs.setdefault("source", "test")
    row, _created = store_raw(raw, **kwargs)
    run_pending_tasks()
    row.refresh_from_db()
    return row


def test_known_sender_opens_a_ticket_in_the_department_of_the_address() -> None:
    carla = factories.customer("carla")
    row = receive(corpus.plain(sender=f"Carla <{carla.email}>", to="Billing <billing@tessera.localhost>"))
    assert row.status == Status.PROCESSED, row.error
    ticket = row.ticket
    assert ticket is not None
    assert ticket.requester == carla
    assert ticket.channel == "email"
    assert ticket.department.slug == "billing"
    assert ticket.subject == "VPS unreachable"
    assert "203.0.113.10" in ticket.description
    assert TimelineEvent.objects.filter(ticket=ticket, kind="created", actor=carla).exists()


def test_mailbox_mapping_wins_over_department_address() -> None:
    abuse = factories.department("abuse")
    Mailbox.objects.create(address="reports@tessera.localhost", department=abuse)
    row = receive(corpus.plain(to="reports@tessera.localhost"))
    assert row.ticket is not None and row.ticket.department == abuse


def test_unknown_sender_becomes_unverified_contact_and_is_told_about_registered_address(
    smtp_sink: Any,
) -> None:
    row = receive(corpus.plain(sender="Stranger <stranger@elsewhere.example>"))
    assert row.status == Status.PROCESSED, row.error
    contact = User.objects.get(email="stranger@elsewhere.example")
    assert not contact.is_verified
    assert contact.role == User.Role.CUSTOMER
    assert contact.full_name == "Stranger"
    assert row.ticket is not None and row.ticket.requester == contact
    run_pending_tasks()
    [ack] = smtp_sink.to("stranger@elsewhere.example")
    text = ack.get_body(("plain",)).get_content()
    assert row.ticket.reference in ack["Subject"]
    assert "registered with your account" in text


def test_redelivery_never_makes_a_second_ticket() -> None:
    raw = corpus.plain()
    first = receive(raw)
    # The same message again, through another path that added a Received header.
    again, created = store_raw(
        b"Received: from relay.example by mx; Mon, 2 Mar 2026\r\n" + raw, source="imap"
    )
    run_pending_tasks()
    assert not created and again.pk == first.pk
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_redelivery_inside_a_transaction_raises_nothing_and_leaves_it_usable() -> None:
    raw = corpus.plain()
    with transaction.atomic():
        first, created = store_raw(raw, source="smtp")
        again, created_again = store_raw(raw, source="imap")
        assert created and not created_again and again.pk == first.pk
        assert InboundMessage.objects.count() == 1  # the transaction still answers queries
    assert again.dedupe_key == first.dedupe_key and again.source == "smtp"


def test_the_stored_row_keeps_the_envelope_and_mailbox() -> None:
    mailbox = Mailbox.objects.create(address="in@tessera.localhost", department=factories.department("abuse"))
    row, _created = store_raw(
        corpus.plain(), source="smtp", envelope_to=["a@x.example", "b@x.example"], mailbox=mailbox
    )
    stored = InboundMessage.objects.get(pk=row.pk)
    fields = [field.attname for field in InboundMessage._meta.concrete_fields]
    assert [getattr(stored, name) for name in fields] == [getattr(row, name) for name in fields]
    assert stored.envelope_to == ["a@x.example", "b@x.example"] and stored.mailbox_id == mailbox.pk
    assert stored.received_at.tzinfo is not None and stored.status == Status.PENDING


def test_raw_8bit_headers_in_utf8_or_latin1_are_read_not_lost() -> None:
    for encoding in ("utf-8", "latin-1"):
        raw = (
            f"From: Zoë Ünal <zoe-{encoding}@example.com>\r\nTo: support@tessera.localhost\r\n"
            f"Subject: Grüße aus Köln\r\nMessage-ID: <8bit-{encoding}@client.example>\r\n"
            f"Authentication-Results: {corpus.AUTH_PASS}\r\n"
            f"Content-Type: text/plain; charset={encoding}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "Der Drucker brennt.\r\n"
        ).encode(encoding)
        row = receive(raw)
        assert row.status == Status.PROCESSED, row.error
        assert row.ticket is not None and row.ticket.subject == "Grüße aus Köln"
        assert row.ticket.requester.full_name == "Zoë Ünal"


def test_encoded_words_joined_and_broken_ones_kept() -> None:
    # Whitespace between two encoded-words is not part of the text (RFC 2047 §6.2).
    assert decode_words("=?utf-8?q?Caf=C3=A9?= =?utf-8?b?IGNsb3NlZA==?= today") == "Café closed today"
    # An unknown charset falls back to UTF-8, then Latin-1; a header that does not decode stays as written.
    assert decode_words("=?x-unknown?q?Caf=C3=A9?= =?utf-8*pl?q?=C5=BC?=") == "Caféż"
    assert decode_words("=?utf-8?q?Caf=C3=A9?= =?latin-1?b?Q?=") == "=?utf-8?q?Caf=C3=A9?= =?latin-1?b?Q?="
    assert decode_words("=?utf-8?q?=E9t=E9?=") == "été"


def test_identical_bytes_share_one_stored_file() -> None:
    raw = corpus.plain()
    row = receive(raw)
    with row.raw.open("rb") as handle:
        assert handle.read() == raw
    assert row.raw.name.endswith(f"{row.sha256}.eml")


def test_spoofed_sender_with_failing_dmarc_is_quarantined_not_attached() -> None:
    carla = factories.customer("carla")
    row = receive(corpus.spoofed(claimed=carla.email))
    assert row.status == Status.QUARANTINED
    assert "DMARC" in row.error or "SPF" in row.error
    assert row.ticket is None
    assert not Ticket.objects.filter(requester=carla).exists()


def test_authentication_results_from_another_server_are_ignored() -> None:
    carla = factories.customer("carla")
    forged = corpus.plain(
        sender=carla.email,
        extra={"Authentication-Results": "mx.attacker.example; dmarc=pass header.from=example.com"},
    )
    row = receive(forged)
    # Not ours, so not trusted: without our server's stamp the sender is unauthenticated and held.
    assert row.status == Status.QUARANTINED and row.auth == InboundMessage.Auth.MISSING
    assert not Ticket.objects.exists()


def test_polish_iso_8859_2_text_and_encoded_headers() -> None:
    row = receive(corpus.polish_iso_8859_2())
    assert row.status == Status.PROCESSED, row.error
    assert row.ticket is not None
    assert row.ticket.subject == "Awaria serwera łódź"
    assert "Zażółć gęślą jaźń" in row.ticket.description
    assert row.ticket.requester.full_name == "Paweł Żak"


def test_broken_charset_does_not_lose_the_message() -> None:
    raw = corpus.plain(body="caf\u00e9").replace(b'charset="utf-8"', b'charset="x-unknown-42"')
    raw = raw.replace(b"charset=utf-8", b"charset=x-unknown-42")
    row = receive(raw)
    assert row.status == Status.PROCESSED, row.error
    assert "caf" in row.ticket.description  # type: ignore[union-attr]


def test_attachments_inline_image_kept_refused_ones_recorded() -> None:
    carla = factories.customer("carla")
    row = receive(corpus.with_attachments(sender=carla.email))
    assert row.status == Status.PROCESSED, row.error
    names = sorted(Attachment.objects.filter(ticket=row.ticket).values_list("filename", flat=True))
    assert "fattura-è-ł.pdf" in names
    assert any(name.startswith("image-") and name.endswith(".png") for name in names)
    notes = " ".join(row.notes)
    assert "program.exe" in notes
    assert "winmail.dat" in names  # a container that does not decode is kept as it came
    assert "<script>" not in row.clean_html and "<b>screenshot</b>" in row.clean_html
    assert row.ticket is not None and row.ticket.description == "See the screenshot."


def test_two_hundred_parts_within_attachment_limit(settings: Any) -> None:
    row = receive(corpus.many_parts(200))
    assert row.status == Status.PROCESSED, row.error
    assert Attachment.objects.filter(ticket=row.ticket).count() == settings.TESSERA_MAX_ATTACHMENTS
    assert sum("at most" in note for note in row.notes) == 199 - settings.TESSERA_MAX_ATTACHMENTS


def test_deep_nesting_is_refused_with_a_clear_reason_and_next_message_still_processed() -> None:
    bad = receive(corpus.deeply_nested(40))
    assert bad.status == Status.FAILED
    assert "levels deep" in bad.error
    good = receive(corpus.plain())
    assert good.status == Status.PROCESSED


def test_out_of_office_is_ignored_and_never_answered(smtp_sink: Any) -> None:
    row = receive(corpus.out_of_office())
    assert row.status == Status.IGNORED
    assert "automatic reply" in row.error.lower()
    assert Ticket.objects.count() == 0
    assert OutboundEmail.objects.count() == 0


@pytest.mark.parametrize(
    "headers",
    [{"Precedence": "bulk"}, {"Auto-Submitted": "auto-generated"}, {"List-Id": "<alerts.example.com>"}],
)
def test_automatic_mail_opens_a_ticket_but_gets_no_acknowledgement(headers: dict[str, str]) -> None:
    row = receive(corpus.plain(sender="alerts@example.com", subject="Disk full", extra=headers))
    assert row.status == Status.PROCESSED, row.error
    assert row.ticket is not None
    assert OutboundEmail.objects.count() == 0


def test_bounce_marks_address_bouncing_and_opens_no_ticket(smtp_sink: Any) -> None:
    row = receive(corpus.bounce("gone@example.com"))
    assert row.status == Status.IGNORED
    assert Ticket.objects.count() == 0
    assert BouncingAddress.objects.filter(email="gone@example.com").exists()
    from tessera.mail.outbound import queue_email

    email = queue_email(to="gone@example.com", subject="x", text="y", dedupe_key="after-bounce")
    assert email is not None
    run_pending_tasks()
    assert smtp_sink.to("gone@example.com") == []
    email.refresh_from_db()
    assert email.state == OutboundEmail.State.SUPPRESSED and "bouncing" in email.last_error


def test_mail_storm_from_one_sender_is_quarantined(settings: Any) -> None:
    settings.TESSERA_MAIL_SENDER_LIMIT = 3
    rows = [receive(corpus.plain(sender="storm@example.com", subject=f"n{i}")) for i in range(5)]
    assert [r.status for r in rows] == [Status.PROCESSED] * 3 + [Status.QUARANTINED] * 2
    assert "mail storm" in rows[-1].error


def test_mail_from_our_own_address_is_a_loop_and_ignored() -> None:
    row = receive(corpus.plain(sender="support@tessera.localhost"))
    assert row.status == Status.IGNORED
    assert Ticket.objects.count() == 0


def test_failed_message_can_be_retried_after_the_cause_is_fixed() -> None:
    from tessera.accounts.models import Department
    from tessera.mail.inbound.pipeline import retry

    Department.objects.update(is_active=False)
    row = receive(corpus.plain())
    assert row.status == Status.FAILED
    assert row.error
    assert Ticket.objects.count() == 0
    Department.objects.update(is_active=True)
    retry(row)
    run_pending_tasks()
    row.refresh_from_db()
    assert row.status == Status.PROCESSED and row.ticket is not None


def test_empty_and_oversized_messages_are_refused(settings: Any) -> None:
    with pytest.raises(MessageRefused):
        store_raw(b"   ", source="test")
    settings.TESSERA_MAIL_MAX_BYTES = 1000
    with pytest.raises(MessageRefused) as error:
        store_raw(corpus.plain(body="x" * 2000), source="test")
    assert error.value.smtp_code == 552
    assert InboundMessage.objects.count() == 0


def test_trusted_mailbox_honours_tessera_headers_untrusted_does_not() -> None:
    Mailbox.objects.create(
        address="monitoring@tessera.localhost", department=factories.department("technical"), trusted=True
    )
    trusted = receive(
        corpus.plain(
            to="monitoring@tessera.localhost",
            subject="a",
            extra={"X-Tessera-Department": "abuse", "X-Tessera-Priority": "high"},
        )
    )
    assert trusted.ticket is not None
    assert trusted.ticket.department.slug == "abuse" and trusted.ticket.priority.slug == "high"
    untrusted = receive(
        corpus.plain(to="support@tessera.localhost", subject="b", extra={"X-Tessera-Department": "abuse"})
    )
    assert untrusted.ticket is not None and untrusted.ticket.department.slug == "technical"
