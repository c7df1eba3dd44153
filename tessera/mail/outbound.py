"""The outbox: queue emails inside the caller's transaction; a task delivers them after commit.

Delivery guarantee
------------------
* Nothing is lost: the `OutboundEmail` row and its delivery task are written in the caller's transaction,
  so they commit (or roll back) with the change that caused them. If the task is lost (a worker killed
  mid-task), the periodic `sweep_outbox` re-enqueues every row still queued.
* Nothing is sent twice for the same `dedupe_key` (e.g. one event and one recipient): a unique constraint
  refuses a second row, and a conditional UPDATE claims a row (queued → sending) before the SMTP
  transaction, so two workers never send the same row.
* Ticket emails and notification copies are rendered and addressed by the delivery task, not in the
  request that queued them (`queue_template_email`): the row keeps the template, the recipient and the
  template's inputs as they were when queued, so every rendering (a retry, a re-send after a crash) makes
  the same email. A rendering failure is a failed attempt like a refused delivery: recorded, retried
  with backoff.
* The one unavoidable window is between the SMTP server's "250 OK" and our UPDATE to `sent`: a crash
  exactly there leaves the row `sending`. After `STALE_CLAIM` (one minute) the sweep, which runs every
  minute, re-queues it and it is re-sent with the *same* Message-ID, so the recipient's server and mail
  client see one message (Gmail, Exchange and most MUAs drop a repeated Message-ID). We prefer this
  at-least-once to silently losing a reply. The claim can be that short because a delivery renews it
  before each email of its batch, and one SMTP transaction is bounded by `SEND_TIMEOUT`.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from anymail.exceptions import AnymailInvalidAddress, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.mail import ids
from tessera.mail.models import BouncingAddress, OutboundEmail
from tessera.notifications.addresses import chosen_addresses
from tessera.tickets.events import record_event
from tessera.tickets.models import Channel, Ticket, TimelineEvent

logger = logging.getLogger("tessera.mail.outbound")

MAX_ATTEMPTS = 10
# A claimed (sending) row whose delivery stopped renewing it is re-queued after this: the claim is
# renewed before each email, and one email's SMTP conversation is bounded by SEND_TIMEOUT (conf).
SEND_TIMEOUT = 20
STALE_CLAIM = timedelta(seconds=3 * SEND_TIMEOUT)
# A queued row whose delivery task never ran (lost with its worker) is enqueued again after this.
STALE_ENQUEUE = timedelta(minutes=5)
TASK_BATCH = 50
SENT_FIELDS = {"state", "sent_at", "attempt_log", "last_error", "esp_message_id"}
RENDERED_FIELDS = {"to", "subject", "text", "html"}  # kept with the outcome, for the record
State = OutboundEmail.State
# Emails rendered at delivery name their template "<family>/<name>"; the family's module renders one with
# `render_email(name, inputs) -> Rendered`. Imported when needed: those modules queue through this one.
RENDERERS = {"ticket": "tessera.mail.notify", "notification": "tessera.notifications.services"}


@dataclass
class EmailSpec:
    to: str
    subject: str
    text: str
    dedupe_key: str
    html: str | None = None
    ticket: Ticket | None = None
    auto_submitted: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    from_email: str = ""


@dataclass
class Rendered:
    """What a renderer makes of an email queued by `queue_template_email`."""

    subject: str
    text: str
    html: str = ""


def queue_email(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    ticket: Ticket | None = None,
    auto_submitted: bool = True,
    dedupe_key: str,
    headers: dict[str, str] | None = None,
    from_email: str = "",
) -> OutboundEmail | None:
    """Queue one email in the caller's transaction; delivered by a task after commit. Returns None if
    dedupe_key was already queued (idempotent)."""
    spec = EmailSpec(
        to=to,
        subject=subject,
        text=text,
        html=html,
        ticket=ticket,
        auto_submitted=auto_submitted,
        dedupe_key=dedupe_key,
        headers=dict(headers or {}),
        from_email=from_email,
    )
    return _queue(_build(spec))


def queue_template_email(
    *,
    template: str,
    recipient: User,
    kind: str,
    inputs: dict[str, Any],
    dedupe_key: str,
    ticket: Ticket | None = None,
    auto_submitted: bool = True,
    headers: dict[str, str] | None = None,
) -> OutboundEmail | None:
    """Queue one email that the delivery task renders (RENDERERS) and addresses, in the caller's
    transaction: the request renders no template and looks up no address. The row keeps `template`, the
    recipient (sent to the address they chose for messages of `kind`, else their account address) and
    `inputs`, JSON values the renderer needs, taken now. Returns None if dedupe_key was queued."""
    if template.partition("/")[0] not in RENDERERS:
        raise ValueError(f"No renderer for {template!r}; use one of {sorted(RENDERERS)}")
    spec = EmailSpec(
        to="",
        subject="",
        text="",
        dedupe_key=dedupe_key,
        ticket=ticket,
        auto_submitted=auto_submitted,
        headers=dict(headers or {}),
    )
    row = _build(spec)
    row.render = {
        "template": template,
        "user": recipient.pk,
        "email": recipient.email,
        "kind": kind,
        "inputs": inputs,
    }
    return _queue(row)


def _queue(row: OutboundEmail) -> OutboundEmail | None:
    # One delivery task per email, written in the caller's transaction: both commit or roll back together
    # (a savepoint's rollback included), with no bookkeeping of which transaction is open.
    try:
        with transaction.atomic():  # a savepoint: a duplicate key leaves the caller's transaction usable
            row.save(force_insert=True)
    except IntegrityError:
        if OutboundEmail.objects.filter(dedupe_key=row.dedupe_key).exists():
            return None  # already queued: idempotent
        raise
    _enqueue([row.pk])
    return row


def queue_emails(emails: Sequence[EmailSpec]) -> int:
    """Bulk variant for announcements to many recipients (bulk_create, ignore duplicates by dedupe_key),
    returns how many were newly queued."""
    by_key = {spec.dedupe_key: spec for spec in emails}
    if not by_key:
        return 0
    existing: set[str] = set()
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        existing |= set(
            OutboundEmail.objects.filter(dedupe_key__in=keys[start : start + 500]).values_list(
                "dedupe_key", flat=True
            )
        )
    built = [_build(spec) for key, spec in by_key.items() if key not in existing]
    with transaction.atomic():
        OutboundEmail.objects.bulk_create(built, batch_size=500, ignore_conflicts=True)
        new_keys = [row.dedupe_key for row in built]
        # ignore_conflicts does not give primary keys back; a concurrent caller may have won a key, in
        # which case we enqueue its row too, which is harmless (rows are claimed before sending).
        queued_ids: list[int] = []
        for start in range(0, len(new_keys), 500):
            queued_ids += list(
                OutboundEmail.objects.filter(
                    dedupe_key__in=new_keys[start : start + 500], state=State.QUEUED
                ).values_list("pk", flat=True)
            )
        for start in range(0, len(queued_ids), TASK_BATCH):
            _enqueue(queued_ids[start : start + TASK_BATCH])
    return len(built)


def _build(spec: EmailSpec) -> OutboundEmail:
    headers = dict(spec.headers)
    ticket_id = spec.ticket.pk if spec.ticket is not None else None
    message_id = headers.pop("Message-ID", "") or ids.message_id(ticket_id)
    if spec.auto_submitted:
        headers.setdefault("Auto-Submitted", "auto-generated")
        # Ask Exchange and others not to answer with out-of-office replies (loop safety).
        headers.setdefault("X-Auto-Response-Suppress", "All")
    if spec.ticket is not None:
        headers.setdefault("X-Tessera-Ticket", spec.ticket.reference)
    from_email = spec.from_email or _ticket_sender(spec.ticket) or settings.DEFAULT_FROM_EMAIL
    now = clock.now()
    return OutboundEmail(
        dedupe_key=spec.dedupe_key[:200],
        to=spec.to.strip(),
        from_email=from_email,
        subject=" ".join(spec.subject.split())[:300],
        text=spec.text,
        html=spec.html or "",
        headers=headers,
        message_id=message_id,
        ticket=spec.ticket,
        auto_submitted=spec.auto_submitted,
        created_at=now,
        next_attempt_at=now,
        enqueued_at=now,
    )


def _ticket_sender(ticket: Ticket | None) -> str:
    if ticket is None:
        return ""
    department = ticket.department
    if not department.email:
        return ""
    return f'"{department.name}" <{department.email}>'


def _enqueue(pks: list[int], run_after: datetime | None = None) -> None:
    from tessera.mail.tasks import deliver_emails

    task = deliver_emails.using(run_after=run_after) if run_after else deliver_emails
    task.enqueue(pks)


# Delivery -----------------------------------------------------------------------------------------------


def claim(pks: Sequence[int]) -> list[OutboundEmail]:
    """Claim the given queued rows that are due with one conditional UPDATE (committed before any SMTP
    traffic). A task with fewer than TASK_BATCH rows also takes the oldest other due rows: under a backlog
    (a burst's acknowledgements, one task each) one connection then sends many emails, and the tasks of
    the rows taken find nothing left to claim."""
    now = clock.now()
    token = secrets.token_hex(8)
    due = OutboundEmail.objects.filter(state=State.QUEUED, next_attempt_at__lte=now)
    wanted = list(pks)
    if len(wanted) < TASK_BATCH:
        wanted += list(
            due.exclude(pk__in=wanted).order_by("pk").values_list("pk", flat=True)[: TASK_BATCH - len(wanted)]
        )
    due.filter(pk__in=wanted).update(
        state=State.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
    )
    return list(OutboundEmail.objects.filter(claim=token, state=State.SENDING).order_by("pk"))


def render_claimed(claimed: list[OutboundEmail], counts: dict[str, int]) -> list[OutboundEmail]:
    """Address and render the claimed emails queued by `queue_template_email` (one address query per kind
    of message in the batch). An email that fails to render is recorded as a failed attempt, retried with
    backoff, and left out of this batch."""
    pending: list[tuple[OutboundEmail, dict[str, Any]]] = [(row, row.render) for row in claimed if row.render]
    if not pending:
        return claimed
    by_kind: dict[str, set[int]] = {}
    for _row, render in pending:
        by_kind.setdefault(render["kind"], set()).add(render["user"])
    chosen = {kind: chosen_addresses(users, kind) for kind, users in by_kind.items()}
    failed: set[int] = set()
    for row, render in pending:
        started = clock.now()
        try:
            family, _, template = str(render["template"]).partition("/")
            rendered = import_module(RENDERERS[family]).render_email(template, render["inputs"])
        except Exception as error:  # recorded on this email; the others still go
            counts[_failed(row, error, started)] += 1
            failed.add(row.pk)
            continue
        row.to = (chosen[render["kind"]].get(render["user"]) or render["email"]).strip()
        row.subject = " ".join(rendered.subject.split())[:300]
        row.text = rendered.text
        row.html = rendered.html
    return [row for row in claimed if row.pk not in failed] if failed else claimed


def set_aside_bouncing(rows: list[OutboundEmail]) -> list[OutboundEmail]:
    """Rows addressed to a bouncing address are set aside here rather than when queued: one query per
    batch instead of one per email, and a bounce recorded after queueing still stops the email."""
    if not rows:
        return rows
    bouncing = set(
        BouncingAddress.objects.filter(email__in={row.to.lower() for row in rows}).values_list(
            "email", flat=True
        )
    )
    if not bouncing:
        return rows
    suppressed = [row for row in rows if row.to.lower() in bouncing]
    for row in suppressed:
        with transaction.atomic():
            updated = OutboundEmail.objects.filter(pk=row.pk, claim=row.claim).update(
                state=State.SUPPRESSED, last_error="The address is bouncing.", **_rendered_values(row)
            )
            if updated and row.ticket_id is not None:
                _record_not_sent(row)
    return [row for row in rows if row not in suppressed]


def _record_not_sent(email: OutboundEmail) -> None:
    """Agents see on the ticket that the customer was not mailed, so they know to phone instead."""
    if email.ticket_id is None:
        return
    ticket = Ticket.objects.select_related("department", "requester").get(pk=email.ticket_id)
    record_event(
        ticket=ticket,
        actor=None,
        channel=Channel.EMAIL,
        kind=TimelineEvent.Kind.EMAIL_NOT_SENT,
        reason=_(
            "Not sent to %(address)s: the address bounces (“%(subject)s”). Reach the customer another way."
        )
        % {"address": email.to, "subject": email.subject},
        new={"address": email.to, "email": email.pk},
        is_public=False,
    )


def build_message(email: OutboundEmail) -> EmailMultiAlternatives:
    headers = {"Message-ID": email.message_id, **email.headers}
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=email.from_email,
        to=[email.to],
        headers={k: v for k, v in headers.items() if k.lower() != "reply-to"},
        reply_to=[headers["Reply-To"]] if headers.get("Reply-To") else None,
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    return message


def deliver(pks: Sequence[int]) -> dict[str, int]:
    """Send the given queued emails over one connection of the configured mailer; record each attempt;
    retry temporary failures with exponential backoff."""
    with transaction.atomic():
        rows = claim(pks)
    counts = {"sent": 0, "retry": 0, "failed": 0}
    rows = set_aside_bouncing(render_claimed(rows, counts))
    if not rows:
        return counts
    connection: Any = mailers[settings.TESSERA_MAIL_MAILER]
    opened = False
    try:
        for email in rows:
            if not _renew_claim(email, rows):
                continue  # a sweep took this one over from a delivery it thought dead: it is theirs now
            started = clock.now()
            try:
                if not opened:
                    connection.open()
                    opened = True
                esp_message_id = send_one(connection, email)
            except Exception as error:  # each failure is recorded; the next email still goes
                outcome = _failed(email, error, started)
                counts[outcome] += 1
                if isinstance(error, (smtplib.SMTPServerDisconnected, OSError)):
                    opened = False
                    _close(connection)
                continue
            _record_sent(email, started, esp_message_id or "")
            counts["sent"] += 1
    finally:
        if opened:
            _close(connection)
    return counts


def _renew_claim(email: OutboundEmail, batch: list[OutboundEmail]) -> bool:
    """Renew this delivery's claim on the rest of its batch right before sending `email` (one UPDATE), so
    the claim can be short; whether `email` is still ours."""
    still_ours = OutboundEmail.objects.filter(claim=email.claim, state=State.SENDING)
    pending = [row.pk for row in batch if row.pk >= email.pk]
    if still_ours.filter(pk__in=pending).update(claimed_at=clock.now()) == len(pending):
        return True
    return still_ours.filter(pk=email.pk).exists()


def send_one(connection: Any, email: OutboundEmail) -> str:
    """One SMTP transaction or provider API call over the open connection of the configured mailer
    (separate function so crash tests can stop the process right here). Returns the provider's id for
    the message when it gives one (anymail backends do); their tracking webhooks refer to it."""
    message = build_message(email)
    sent = connection.send_messages([message])
    if not sent:
        raise smtplib.SMTPException("The mailer did not accept the message.")
    status = getattr(message, "anymail_status", None)
    found = getattr(status, "message_id", None)
    if isinstance(found, set):  # one id per recipient; we send to one
        found = min(found, default=None)
    return str(found or "")[:255]


def _close(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # closing a broken connection may fail too; nothing to do about it
        logger.debug("closing the mail connection failed", exc_info=True)


def _record_sent(email: OutboundEmail, started: datetime, esp_message_id: str) -> None:
    """Mark an email sent right after the server accepted it (the at-least-once window stays one email),
    only while this task's claim still holds it."""
    entry = {"at": started.isoformat(), "outcome": "sent"}
    if esp_message_id:
        entry["esp_message_id"] = esp_message_id
    email.state = State.SENT
    email.sent_at = clock.now()
    email.attempt_log = [*email.attempt_log, entry]
    email.last_error = ""
    email.esp_message_id = esp_message_id
    # An email rendered at delivery also keeps what was sent.
    names = SENT_FIELDS | RENDERED_FIELDS if email.render is not None else SENT_FIELDS
    OutboundEmail.objects.filter(pk=email.pk, claim=email.claim).update(
        **{name: getattr(email, name) for name in sorted(names)}
    )


def _permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, (AnymailRecipientsRefused, AnymailInvalidAddress)):
        return True  # the provider refused the recipient (suppressed, invalid): retrying cannot help
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _failed(email: OutboundEmail, error: Exception, started: datetime) -> str:
    text = f"{type(error).__name__}: {error}"[:1000]
    entry = {"at": started.isoformat(), "outcome": "error", "error": text}
    log = [*email.attempt_log, entry]
    permanent = _permanent(error)
    if permanent or email.attempts >= MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=email.pk, claim=email.claim).update(
            state=State.FAILED, attempt_log=log, last_error=text, **_rendered_values(email)
        )
        if permanent and isinstance(error, (smtplib.SMTPRecipientsRefused, AnymailRecipientsRefused)):
            mark_bouncing(email.to, text)
        logger.warning("email %s to %s failed for good: %s", email.pk, email.to, text)
        return "failed"
    delay = backoff(email.attempts)
    at = clock.now() + delay
    with transaction.atomic():
        OutboundEmail.objects.filter(pk=email.pk, claim=email.claim).update(
            state=State.QUEUED,
            attempt_log=log,
            last_error=text,
            next_attempt_at=at,
            enqueued_at=clock.now(),
            **_rendered_values(email),
        )
        _enqueue([email.pk], run_after=at)
    return "retry"


def _rendered_values(email: OutboundEmail) -> dict[str, Any]:
    """What an email rendered at delivery looked like, to keep with its outcome (nothing for an email
    rendered when queued, or one whose rendering failed)."""
    if email.render is None or not email.to:
        return {}
    return {name: getattr(email, name) for name in RENDERED_FIELDS}


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most 6 hours between attempts."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def mark_bouncing(address: str, reason: str) -> None:
    """Stop mailing an address that bounced; counted per bounce."""
    email = address.strip().lower()
    now = clock.now()
    updated = BouncingAddress.objects.filter(email=email).update(
        bounces=F("bounces") + 1, last_bounced_at=now, reason=reason[:2000]
    )
    if not updated:
        try:
            with transaction.atomic():
                BouncingAddress.objects.create(
                    email=email, reason=reason[:2000], first_bounced_at=now, last_bounced_at=now
                )
        except IntegrityError:  # a concurrent bounce created it first
            pass


def sweep_outbox(now: datetime | None = None) -> int:
    """Recover after crashes: re-queue rows left `sending` by a dead worker, and re-enqueue queued rows
    whose task was lost. Returns how many rows were (re-)enqueued."""
    now = now or clock.now()
    with transaction.atomic():
        stale = list(
            OutboundEmail.objects.filter(state=State.SENDING, claimed_at__lt=now - STALE_CLAIM).values_list(
                "pk", flat=True
            )
        )
        if stale:
            OutboundEmail.objects.filter(pk__in=stale, state=State.SENDING).update(
                state=State.QUEUED, claim="", next_attempt_at=min(now, clock.now())
            )
        due = list(
            OutboundEmail.objects.filter(state=State.QUEUED, next_attempt_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - STALE_ENQUEUE) | Q(pk__in=stale))
            .values_list("pk", flat=True)[:5000]
        )
        if due:
            OutboundEmail.objects.filter(pk__in=due).update(enqueued_at=now)
            for start in range(0, len(due), TASK_BATCH):
                _enqueue(due[start : start + TASK_BATCH])
    return len(due)
