"""Every inbound path against real servers on loopback: pipe (exit codes), SMTP and LMTP listener,
IMAP against Dovecot (by UID, IDLE), and two providers' webhooks with valid and invalid signatures."""

from __future__ import annotations

import hashlib
import hmac
import imaplib
import itertools
import smtplib
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from django.test import Client

from tessera.core.worker import run_pending_tasks
from tessera.mail.inbound import imap
from tessera.mail.inbound.smtp import start_listener
from tessera.mail.models import InboundMessage, Mailbox
from tessera.tickets.models import Ticket
from tests import factories
from tests.mail import corpus
from tests.mail.conftest import free_port, subprocess_env
from tests.mail.dovecot import PASSWORD, USER

pytestmark = pytest.mark.django_db(transaction=True)
_folders = itertools.count(1)


# Pipe ----------------------------------------------------------------------------------------------------


def _ingest(raw: bytes, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tessera", "mail", "ingest", "--recipient", "billing@tessera.localhost"],
        input=raw,
        env=env or subprocess_env(),
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_pipe_stores_the_message_and_exits_zero() -> None:
    result = _ingest(corpus.plain(subject="piped"))
    assert result.returncode == 0, result.stderr
    row = InboundMessage.objects.get()
    assert row.source == "pipe" and row.envelope_to == ["billing@tessera.localhost"]
    run_pending_tasks()
    row.refresh_from_db()
    assert row.ticket is not None and row.ticket.subject == "piped", (row.status, row.error)


def test_pipe_refuses_an_empty_message_with_a_permanent_code() -> None:
    result = _ingest(b"")
    assert result.returncode == 65
    assert b"empty" in result.stderr
    assert InboundMessage.objects.count() == 0


def test_pipe_asks_the_server_to_retry_when_the_database_is_down() -> None:
    env = {**subprocess_env(), "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    result = _ingest(corpus.plain(), env=env)
    assert result.returncode == 75


# SMTP / LMTP ---------------------------------------------------------------------------------------------


def test_smtp_listener_stores_before_it_says_ok(settings: Any) -> None:
    port = free_port()
    controller = start_listener(f"smtp://127.0.0.1:{port}")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            refused = client.sendmail(
                "carla@example.com", ["support@tessera.localhost"], corpus.plain(subject="via smtp")
            )
            assert refused == {}
            settings.TESSERA_MAIL_MAX_BYTES = 2000
        # a new connection picks the lower limit up from the factory? the size limit was fixed at start;
        # the store refuses too-large messages too:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            # Refused at MAIL FROM (SIZE) or at DATA, with 552 either way.
            with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as error:
                client.sendmail("x@example.com", ["support@tessera.localhost"], corpus.plain(body="y" * 5000))
            assert error.value.smtp_code == 552
    finally:
        controller.stop()
    row = InboundMessage.objects.get()
    assert row.source == "smtp" and row.envelope_from == "carla@example.com"
    run_pending_tasks()
    assert Ticket.objects.get().subject == "via smtp"


def test_lmtp_listener_answers_per_recipient() -> None:
    port = free_port()
    controller = start_listener(f"lmtp://127.0.0.1:{port}")
    try:
        client = smtplib.LMTP("127.0.0.1", port, timeout=30)
        try:
            refused = client.sendmail(
                "carla@example.com",
                ["support@tessera.localhost", "billing@tessera.localhost"],
                corpus.plain(subject="via lmtp"),
            )
            assert refused == {}
        finally:
            client.quit()
    finally:
        controller.stop()
    row = InboundMessage.objects.get()
    assert row.source == "lmtp" and len(row.envelope_to) == 2


# IMAP ----------------------------------------------------------------------------------------------------


def _folder(dovecot: Any) -> str:
    name = f"Test{next(_folders)}{int(time.time() * 1000) % 100000}"
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    client.create(name)
    client.logout()
    return name


def _append(dovecot: Any, folder: str, raw: bytes) -> None:
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    typ, _ = client.append(folder, None, None, raw)
    assert typ == "OK"
    client.logout()


def _mailbox(dovecot: Any, folder: str, **fields: Any) -> Mailbox:
    return Mailbox.objects.create(
        address=f"{folder.lower()}@tessera.localhost",
        department=factories.department("billing"),
        imap_host="127.0.0.1",
        imap_port=dovecot.port,
        imap_security="none",
        imap_username=USER,
        imap_password=fields.pop("password", PASSWORD),
        imap_folder=folder,
        **fields,
    )


def _flags(dovecot: Any, folder: str) -> list[bytes]:
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    client.select(folder, readonly=True)
    _typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
    client.logout()
    return [item for item in data if item]  # type: ignore[misc]


def test_imap_fetches_by_uid_marks_seen_after_storing_and_resumes(dovecot: Any) -> None:
    folder = _folder(dovecot)
    mailbox = _mailbox(dovecot, folder)
    for i in range(3):
        _append(dovecot, folder, corpus.plain(subject=f"imap {i}"))
    assert imap.fetch_all() == 3
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 3 and mailbox.last_error == ""
    assert all(b"\\Seen" in flags for flags in _flags(dovecot, folder))
    # Another client expunges the first message: sequence numbers shift, UIDs do not.
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    client.select(folder)
    client.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
    client.expunge()
    client.logout()
    _append(dovecot, folder, corpus.plain(subject="imap 3"))
    assert imap.fetch_all() == 1
    assert imap.fetch_all() == 0
    run_pending_tasks()
    subjects = sorted(Ticket.objects.values_list("subject", flat=True))
    assert subjects == ["imap 0", "imap 1", "imap 2", "imap 3"]
    assert {t.department.slug for t in Ticket.objects.all()} == {"billing"}


def test_imap_moves_processed_mail_when_asked(dovecot: Any) -> None:
    folder = _folder(dovecot)
    done = _folder(dovecot)
    _mailbox(dovecot, folder, imap_done_folder=done)
    _append(dovecot, folder, corpus.plain(subject="to move"))
    assert imap.fetch_all() == 1
    assert _flags(dovecot, folder) == []
    assert len(_flags(dovecot, done)) == 1


def test_imap_login_failure_is_shown_not_silent(dovecot: Any) -> None:
    folder = _folder(dovecot)
    mailbox = _mailbox(dovecot, folder, password="wrong")
    assert imap.fetch_all() == 0
    mailbox.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "authentication" in mailbox.last_error.lower()
    assert imap.mailbox_problems() == [
        {"mailbox": mailbox.address, "error": mailbox.last_error, "since": mailbox.last_error_at.isoformat()}  # type: ignore[union-attr]
    ]


def test_imap_idle_picks_up_new_mail(dovecot: Any) -> None:
    folder = _folder(dovecot)
    mailbox = _mailbox(dovecot, folder)
    stopping = threading.Event()
    thread = threading.Thread(target=imap.idle_mailbox, args=(mailbox.pk, stopping), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Mailbox.objects.get(pk=mailbox.pk).last_checked_at is None:
            time.sleep(0.1)
        _append(dovecot, folder, corpus.plain(subject="while idling"))
        while (
            time.monotonic() < deadline and not InboundMessage.objects.filter(subject="while idling").exists()
        ):
            time.sleep(0.1)
        assert InboundMessage.objects.filter(subject="while idling", source="imap").exists()
    finally:
        stopping.set()
        thread.join(timeout=imap.IDLE_SECONDS + 10)


# Webhooks (django-anymail) -------------------------------------------------------------------------------

MAILGUN_KEY = "mailgun-signing-key-for-tests"
MANDRILL_KEY = "mandrill-webhook-key-for-tests"


@pytest.fixture
def webhook_settings(settings: Any) -> None:
    settings.ANYMAIL = {
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY,
        "MANDRILL_WEBHOOK_URL": "http://testserver/mail/anymail/mandrill/",
        "WEBHOOK_SECRET": "hook:secret",
    }


def _basic() -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(b"hook:secret").decode()}


def _mailgun_post(raw: bytes, *, key: str) -> Any:
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    from django.core.files.uploadedfile import SimpleUploadedFile

    return (
        Client().post(
            "/mail/anymail/mailgun/inbound_mime/",
            {
                "body-mime": raw.decode(),
                "timestamp": timestamp,
                "token": token,
                "signature": signature,
                "recipient": "support@tessera.localhost",
                "sender": "carla@example.com",
            },
            headers=_basic(),
        )
        if SimpleUploadedFile
        else None
    )


def test_mailgun_webhook_with_valid_signature_stores_invalid_is_refused(webhook_settings: None) -> None:
    assert _mailgun_post(corpus.plain(subject="mailgun ok"), key=MAILGUN_KEY).status_code == 200
    assert _mailgun_post(corpus.plain(subject="mailgun forged"), key="wrong-key").status_code == 400
    assert list(InboundMessage.objects.values_list("subject", "source")) == [
        ("mailgun ok", "webhook:mailgun")
    ]


def _mandrill_post(raw: bytes, *, key: str) -> Any:
    import base64
    import json

    url = "http://testserver/mail/anymail/mandrill/"
    events = json.dumps(
        [
            {
                "event": "inbound",
                "ts": int(time.time()),
                "msg": {"raw_msg": raw.decode(), "email": "support@tessera.localhost"},
            }
        ]
    )
    signed = url + "mandrill_events" + events
    signature = base64.b64encode(hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    return Client().post(
        "/mail/anymail/mandrill/",
        {"mandrill_events": events},
        headers={**_basic(), "X-Mandrill-Signature": signature},
    )


def test_mandrill_webhook_with_valid_signature_stores_invalid_is_refused(webhook_settings: None) -> None:
    assert _mandrill_post(corpus.plain(subject="mandrill ok"), key=MANDRILL_KEY).status_code == 200
    assert _mandrill_post(corpus.plain(subject="mandrill forged"), key="wrong").status_code == 400
    assert list(InboundMessage.objects.values_list("subject", "source")) == [
        ("mandrill ok", "webhook:mandrill")
    ]
    run_pending_tasks()
    assert Ticket.objects.get().subject == "mandrill ok"
