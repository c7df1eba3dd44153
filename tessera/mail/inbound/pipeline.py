"""Processing one stored inbound message, in order: parse → bounce? → authentication → loop and noise
guards → sender → thread → content → ticket or reply. Every decision is stored on the row with its reason.

The whole of one attempt runs in one transaction: either the ticket/reply and the row's new status
commit together, or nothing does and the row is marked failed with the error (in a second, tiny
transaction), so a bad message never blocks the next one and is never half-saved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.accounts.services import create_contact
from tessera.core import clock
from tessera.core.errors import DomainError, IllegalTransition, ValidationFailed
from tessera.core.refcache import ReferenceTable
from tessera.mail import ids, security
from tessera.mail.inbound.auth import Verdict, authenticate
from tessera.mail.inbound.parse import MailUnreadable, ParsedMail, Part, parse, sanitise_html
from tessera.mail.inbound.quotes import fold_reply
from tessera.mail.inbound.store import read_raw
from tessera.mail.inbound.threading import Thread, find_thread
from tessera.mail.models import (
    AcknowledgedSender,
    BouncingAddress,
    DeliveryStatus,
    InboundMessage,
    Mailbox,
    OutboundEmail,
    SecurityEvent,
)
from tessera.mail.notify import quiet, refused_files, send_refused_files
from tessera.mail.outbound import mark_bouncing
from tessera.mail.tracking import clear_undeliverable, record_bounce
from tessera.tickets import access
from tessera.tickets.attachments import CheckedFile, FileRefused, check_daily_quota, check_file, refusal_text
from tessera.tickets.events import record_event
from tessera.tickets.models import Channel, Priority, Ticket, TimelineEvent
from tessera.tickets.services import BODY_MAX, NewTicket, add_reply, create_ticket

logger = logging.getLogger("tessera.mail.inbound")
Status = InboundMessage.Status
Auth = InboundMessage.Auth
Release = InboundMessage.Release
SecurityKind = SecurityEvent.Kind
TimelineKind = TimelineEvent.Kind
SYSTEM_EMAIL = "mail-robot@tessera.invalid"
# What processing writes on the row.
PROCESSED_FIELDS = [
    "status",
    "error",
    "ticket",
    "ticket_message",
    "processed_at",
    "attempts",
    "subject",
    "sender",
    "full_text",
    "clean_html",
    "notes",
    "auth",
    "department",
]


@dataclass
class Content:
    """What of the message becomes the ticket's, and what was not kept (shown to agents on the ticket)."""

    files: list[ContentFile[bytes]]
    refusals: list[dict[str, Any]]  # refused files: {"reason": REFUSALS key, "params": values}
    dropped: list[str] = field(default_factory=list)  # every file, part or text not kept, with why
    acknowledge: bool = True


@dataclass
class Outcome:
    status: str
    reason: str = ""
    ticket: Ticket | None = None
    message_id: int | None = None


def process(pk: int) -> str:
    """Process one pending message; returns its new status. Safe to call twice: only a pending row is
    processed, under a row lock."""
    try:
        with transaction.atomic():
            row = InboundMessage.objects.select_for_update().filter(pk=pk).first()
            if row is None or row.status != Status.PENDING:
                return "skipped"
            outcome = _process(row)
            row.status = outcome.status
            row.error = outcome.reason[:5000]
            row.ticket = outcome.ticket
            row.ticket_message_id = outcome.message_id
            row.processed_at = clock.now()
            row.attempts += 1
            row.save(update_fields=PROCESSED_FIELDS)
            return outcome.status
    except Exception as error:
        if isinstance(error, DomainError):
            reason = str(error.message)
        else:
            logger.exception("inbound message %s failed", pk)
            reason = _("Processing failed: %(error)s") % {"error": f"{type(error).__name__}: {error}"}
        InboundMessage.objects.filter(pk=pk, status=Status.PENDING).update(
            status=Status.FAILED, error=reason[:5000], processed_at=clock.now(), attempts=F("attempts") + 1
        )
        return Status.FAILED


def retry(row: InboundMessage) -> None:
    """Put a failed, quarantined or ignored message back in the queue (the admin "retry" action)."""
    from tessera.mail.tasks import process_inbound

    with transaction.atomic():
        updated = (
            InboundMessage.objects.filter(pk=row.pk)
            .exclude(status=Status.PROCESSED)
            .update(status=Status.PENDING, error="", enqueued_at=clock.now())
        )
        if updated:
            process_inbound.enqueue(row.pk)


def _process(row: InboundMessage) -> Outcome:
    try:
        raw = read_raw(row)
    except OSError as error:
        return Outcome(
            Status.FAILED, _("The stored message file cannot be read: %(error)s") % {"error": error}
        )
    try:
        mail = parse(raw)
    except MailUnreadable as error:
        return Outcome(Status.FAILED, str(error))
    row.subject = mail.subject[:250]
    row.sender = mail.sender[:320] or row.sender
    row.full_text = mail.text
    row.clean_html = sanitise_html(mail.html) if mail.html else ""
    row.notes = []
    row.department = None

    if mail.bounces or mail.is_report:
        return _bounce(mail)
    sender = mail.sender
    released = row.release
    verdict = authenticate(mail.auth_results, sender)
    row.auth = verdict.auth
    if verdict.forged and not released:  # logged when first seen, not again on release
        security.record(
            SecurityKind.FORGED_AUTH, sender=sender, detail="; ".join(verdict.forged), inbound=row
        )
    if not verdict.passed and not released:
        return _hold(row, mail, verdict.reason, _unauthenticated_kind(verdict, sender))
    if not sender:
        return Outcome(Status.FAILED, _("The message has no valid From address."))
    ours = our_addresses()
    if sender in ours:
        return Outcome(Status.IGNORED, _("Mail from one of our own addresses (a loop); not processed."))
    if sender.split("@")[0] in {"mailer-daemon", "postmaster"}:
        return Outcome(
            Status.IGNORED,
            _("A message from a mail server (%(sender)s); not processed.") % {"sender": sender},
        )
    if not released and _over_rate(row, sender):
        return _hold(
            row,
            mail,
            _("More than %(limit)d messages from %(sender)s in the last hour: held as a possible mail storm.")
            % {"limit": settings.TESSERA_MAIL_SENDER_LIMIT, "sender": sender},
            SecurityKind.STORM,
        )
    if mail.auto == "auto_reply":
        return Outcome(
            Status.IGNORED, _("An automatic reply (out of office or similar); not added and never answered.")
        )

    user = User.objects.filter(email=sender).first()
    # They write to us, so the address works again (an undeliverable address is always bouncing too).
    if BouncingAddress.objects.filter(email=sender).delete()[0]:
        clear_undeliverable(sender)
    # Tokens are looked for in the addresses as written (a token is compared exactly as issued).
    recipients = list(dict.fromkeys([*row.envelope_to, *mail.recipient_headers]))
    bad_tokens: list[str] = []
    # Released as a new unverified contact: a new ticket, never a reply on an existing one.
    thread = None if released == Release.CONTACT else find_thread(mail, recipients, user, bad_tokens)
    if bad_tokens:
        security.record(
            SecurityKind.BAD_TOKEN,
            sender=sender,
            detail=_("Reply tokens that are not ours: %(tokens)s") % {"tokens": ", ".join(bad_tokens[:10])},
            inbound=row,
        )
    content = check_attachments(mail.parts, user)
    content.dropped[:0] = mail.notes
    # RFC 3834: automatic mail, and mail that asks for no automatic reply, is never acknowledged.
    content.acknowledge = not (mail.auto or mail.suppress_ack)
    outcome = None
    if thread is not None:
        with quiet(bool(mail.auto)):
            outcome = _reply(row, mail, thread, user, content)
    if outcome is None:
        outcome = _new_ticket(row, mail, user, ours, content)
    row.notes += content.dropped
    if content.dropped and outcome.ticket is not None:
        record_event(
            ticket=outcome.ticket,
            actor=None,
            channel=Channel.EMAIL,
            kind=TimelineKind.MAIL_CONTENT_DROPPED,
            reason="\n".join(content.dropped)[:5000],
            new={"inbound": row.pk, "refused": [r["params"]["name"] for r in content.refusals]},
            is_public=False,
        )
    if released and outcome.ticket is not None:
        _record_release(row, outcome.ticket, verdict)
    return outcome


def _unauthenticated_kind(verdict: Verdict, sender: str) -> str:
    """An explicit DMARC/SPF failure on a registered customer's address is a spoofing attempt; anything
    else is mail we merely could not authenticate."""
    if verdict.auth in (Auth.DMARC_FAIL, Auth.SPF_FAIL) and User.objects.filter(email=sender).exists():
        return SecurityKind.SPOOFING
    return SecurityKind.UNAUTHENTICATED


def _hold(row: InboundMessage, mail: ParsedMail, reason: str, kind: str) -> Outcome:
    """Quarantine the message for the review queue, addressed to the department it would have gone to
    (whose agents may review it), and log why."""
    try:
        row.department = route(row, [*row.envelope_to, *mail.delivered_to], [*mail.to, *mail.cc])[1]
    except DomainError:
        row.department = None
    security.record(kind, sender=mail.sender or row.envelope_from, detail=reason, inbound=row)
    return Outcome(Status.QUARANTINED, reason)


def _record_release(row: InboundMessage, ticket: Ticket, verdict: Verdict) -> None:
    """An internal entry on the ticket: who let held mail through, how, and what the checks had said."""
    reviewer = row.reviewed_by
    record_event(
        ticket=ticket,
        actor=reviewer,
        channel=Channel.EMAIL,
        kind=TimelineKind.MAIL_REVIEWED,
        new={"inbound": row.pk, "release": row.release, "auth": verdict.auth, "sender": row.sender},
        reason=verdict.reason or row.error,
        is_public=False,
    )


def _bounce(mail: ParsedMail) -> Outcome:
    failed = [b for b in mail.bounces if b.action == "failed" or b.status.startswith("5")]
    for bounce in failed:
        reason = f"{bounce.status} {bounce.diagnostic}".strip()
        mark_bouncing(bounce.recipient, reason)
        for email in _bounced_emails(bounce.recipient, mail.returned_ids):
            OutboundEmail.objects.filter(pk=email.pk).update(
                delivery_status=DeliveryStatus.BOUNCED,
                delivery_reason=reason[:2000],
                delivery_updated_at=clock.now(),
            )
            record_bounce(email, bounce.recipient, reason)
    if failed:
        return Outcome(
            Status.IGNORED,
            _("Delivery failure report: %(addresses)s marked as bouncing.")
            % {"addresses": ", ".join(b.recipient for b in failed)},
        )
    return Outcome(Status.IGNORED, _("A delivery report without failures; nothing to do."))


def _bounced_emails(address: str, returned_ids: list[str]) -> list[OutboundEmail]:
    """Our ticket emails a failure report is about: those it returns (by Message-ID), else the latest
    email sent to the address in the last month."""
    emails = OutboundEmail.objects.filter(to__iexact=address, ticket__isnull=False)
    if returned_ids:
        found = list(emails.filter(message_id__in=returned_ids)[:20])
        if found:
            return found
    since = clock.now() - timedelta(days=30)
    latest = emails.filter(state=OutboundEmail.State.SENT, sent_at__gte=since).order_by("-sent_at").first()
    return [latest] if latest is not None else []


@dataclass(frozen=True)
class _Addresses:
    """Mailboxes and departments as routing reads them, from a per-process copy (read-only)."""

    mailboxes: dict[str, Mailbox]  # active mailboxes by stored address, department attached
    department_emails: dict[str, Department]  # active departments by lowercased address
    departments: list[Department]  # every department, by name
    department_ids: dict[int, Department]  # every department, by id
    ours: frozenset[str]  # every mailbox and department address, lowercased


def _load_addresses() -> _Addresses:
    mailboxes = list(Mailbox.objects.select_related("department"))
    departments = list(Department.objects.all())
    return _Addresses(
        mailboxes={m.address: m for m in mailboxes if m.is_active},
        department_emails={d.email.lower(): d for d in departments if d.is_active and d.email},
        departments=departments,
        department_ids={d.pk: d for d in departments},
        ours=frozenset(
            [m.address.lower() for m in mailboxes] + [d.email.lower() for d in departments if d.email]
        ),
    )


_addresses = ReferenceTable(_load_addresses, Mailbox, Department)


def our_addresses() -> set[str]:
    found = {ids.base_address(settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].strip(">"))}
    return found | _addresses.get().ours


def _over_rate(row: InboundMessage, sender: str) -> bool:
    since = row.received_at - timedelta(hours=1)
    recent = (
        InboundMessage.objects.filter(sender=sender, received_at__range=(since, row.received_at))
        .exclude(pk=row.pk)
        .count()
    )
    return recent >= settings.TESSERA_MAIL_SENDER_LIMIT


def check_attachments(parts: list[Part], sender: User | None) -> Content:
    """Files that pass the ticket attachment rules and the sender's daily quota; each refused one is kept
    with its reason."""
    content = Content(files=[], refusals=[])
    checked: list[CheckedFile] = []
    for part in parts:
        if len(content.files) >= settings.TESSERA_MAX_ATTACHMENTS:
            error = FileRefused("too_many", name=part.filename, max=settings.TESSERA_MAX_ATTACHMENTS)
        else:
            upload = ContentFile(part.content, name=part.filename)
            try:
                this = check_file(upload)
                check_daily_quota(sender, [*checked, this])
            except FileRefused as refused:
                error = refused
            except ValidationFailed:  # the daily quota: per file, so the message and other files are kept
                error = FileRefused(
                    "quota",
                    name=part.filename,
                    files=settings.TESSERA_DAILY_UPLOAD_FILES,
                    megabytes=settings.TESSERA_DAILY_UPLOAD_BYTES // (1024 * 1024),
                )
            else:
                checked.append(this)
                content.files.append(upload)
                continue
        content.refusals.append({"reason": error.reason, "params": error.params})
        text = refusal_text(error.reason, error.params)
        content.dropped.append(f"{text} ({part.note})" if part.note else text)
    return content


def may_acknowledge(email: str) -> bool:
    """Claim the sender's one acknowledgement of the window (TESSERA_MAIL_ACK_WINDOW_SECONDS); False when
    one went out within it. In the caller's transaction, so a rolled-back ticket gives the claim back."""
    now = clock.now()
    since = now - timedelta(seconds=settings.TESSERA_MAIL_ACK_WINDOW_SECONDS)
    claimed = AcknowledgedSender.objects.filter(email=email, last_acknowledged_at__lte=since).update(
        last_acknowledged_at=now
    )
    if claimed:
        return True
    try:
        # A savepoint: the INSERT refused because the address was acknowledged within the window
        # leaves the transaction usable.
        with transaction.atomic():
            AcknowledgedSender.objects.create(email=email, last_acknowledged_at=now)
    except IntegrityError:
        return False
    return True


def _body(text: str, *, content: Content, html: str | None = None) -> str:
    """The text a ticket keeps: for a reply (`html` given, maybe empty) without its quoted history."""
    text = text.replace("\r\n", "\n").strip()
    if html is not None and text:
        text = fold_reply(text, html) or text
    if len(text) > BODY_MAX:
        content.dropped.append(
            _(
                "The text was shortened from %(length)d to %(max)d characters; the original message "
                "has it all."
            )
            % {"length": len(text), "max": BODY_MAX - 200}
        )
        text = (
            text[: BODY_MAX - 200]
            + "\n\n"
            + _("[The message was shortened; the full text is in the original.]")
        )
    return text or _("(The message has no text.)")


def _system_agent() -> User:
    """The account that creates contacts for unknown senders (create_contact needs an agent); inactive,
    so nobody can sign in as it."""
    user, _created = User.objects.get_or_create(
        email=SYSTEM_EMAIL,
        defaults={"role": User.Role.AGENT, "is_active": False, "full_name": "Tessera mail"},
    )
    return user


def _contact_for(mail: ParsedMail) -> User:
    return create_contact(
        actor=_system_agent(), email=mail.sender, full_name=mail.sender_name, language=settings.LANGUAGE_CODE
    )


def _reply(
    row: InboundMessage, mail: ParsedMail, thread: Thread, user: User | None, content: Content
) -> Outcome | None:
    ticket = thread.ticket
    # What the reply reads of the ticket's relations, without a join: the department from this
    # process's copy, the requester when that is the sender (else loaded if needed).
    department = _addresses.get().department_ids.get(ticket.department_id)
    if department is not None:
        ticket.department = department
    if user is not None and ticket.requester_id == user.pk:
        ticket.requester = user
    may_post = user is not None and access.can_view_ticket(user, ticket)
    if not may_post:
        if not thread.signed:
            row.notes.append(
                _("The subject names %(ref)s, but the sender may not post on it: opened a new ticket.")
                % {"ref": ticket.reference}
            )
            return None
        if user is not None and user.is_agent:
            return _hold(
                row,
                mail,
                _("%(agent)s replied to %(ref)s but does not work in its department.")
                % {"agent": user.email, "ref": ticket.reference},
                SecurityKind.THIRD_PARTY,
            )
        # A signed token proves which ticket the mail answers, not who may join it (a BCC'd colleague,
        # a forwarded copy): the sender gets a ticket of their own, linked for the agents, and the
        # original's participants, conversation and mail stay as they were.
        return _third_party(row, mail, ticket, user, content)
    if user is None:  # unreachable: may_post implies a user; keeps the type checker honest
        return None
    try:
        message = add_reply(
            actor=user,
            ticket=ticket,
            body=_body(mail.text, content=content, html=mail.html),
            channel=Channel.EMAIL,
            files=list(content.files),
        )
    except IllegalTransition:
        row.notes.append(
            _("%(ref)s is closed (or past its reopen window): opened a new ticket.")
            % {"ref": ticket.reference}
        )
        return None
    if content.refusals and content.acknowledge:
        send_refused_files(ticket=ticket, user=user, refusals=content.refusals, key=str(row.pk))
    return Outcome(Status.PROCESSED, "", ticket, message.pk)


def _third_party(
    row: InboundMessage,
    mail: ParsedMail,
    original: Ticket,
    user: User | None,
    content: Content,
) -> Outcome:
    outcome = _new_ticket(row, mail, user, our_addresses(), content, third_party_of=original)
    new = outcome.ticket
    if new is None:  # _new_ticket always opens one; keeps the type checker honest
        return outcome
    for ticket, other in ((new, original), (original, new)):
        record_event(
            ticket=ticket,
            actor=None,
            channel=Channel.EMAIL,
            kind=TimelineKind.LINKED,
            new={"ticket": other.pk, "why": "third_party", "sender": mail.sender},
            is_public=False,
        )
    row.notes.append(
        _(
            "%(email)s is not a participant of %(ref)s: opened %(new)s, linked to it as a possible reply "
            "from a third party."
        )
        % {"email": mail.sender, "ref": original.reference, "new": new.reference}
    )
    security.record(
        SecurityKind.THIRD_PARTY,
        sender=mail.sender,
        detail=_("Replied to %(ref)s with a valid reply token; opened %(new)s instead.")
        % {"ref": original.reference, "new": new.reference},
        inbound=row,
        ticket=original,
    )
    return outcome


def _new_ticket(
    row: InboundMessage,
    mail: ParsedMail,
    user: User | None,
    ours: set[str],
    content: Content,
    *,
    third_party_of: Ticket | None = None,
) -> Outcome:
    envelope = [*row.envelope_to, *mail.delivered_to]
    mailbox, department = route(row, envelope, [*mail.to, *mail.cc])
    if third_party_of is not None and third_party_of.department.is_active:
        department = third_party_of.department
    priority = None
    if mailbox is not None and mailbox.trusted:
        slug = mail.tessera_headers.get("x-tessera-department")
        if slug:
            department = (
                next((d for d in _addresses.get().departments if d.slug == slug and d.is_active), None)
                or department
            )
        prio = mail.tessera_headers.get("x-tessera-priority")
        if prio:
            priority = Priority.objects.filter(slug=prio).first()
    if user is None:
        user = _contact_for(mail)
        row.notes.append(_("New unverified contact %(email)s.") % {"email": user.email})
    # A third party's copies (often the original's requester, by reply-all) are not copied on it.
    others = [a for a in mail.to + mail.cc if a not in ours] if third_party_of is None else []
    cc = [
        person
        for person in (User.objects.filter(email__in=others) if others else [])
        if person.pk != user.pk and not person.is_agent and person.is_active
    ]
    subject = " ".join(mail.subject.split())[:250] or _("(no subject)")
    acknowledge = content.acknowledge
    if acknowledge and not may_acknowledge(user.email):
        acknowledge = False
        row.notes.append(
            _("No acknowledgement: %(email)s was sent one less than %(minutes)d minutes ago.")
            % {"email": user.email, "minutes": max(settings.TESSERA_MAIL_ACK_WINDOW_SECONDS // 60, 1)}
        )
    data = NewTicket(
        subject=subject,
        description=_body(mail.text, content=content),
        department=department,
        priority=priority,
        channel=Channel.EMAIL,
        cc=cc,
        files=list(content.files),
        # A possible third-party reply waits in the queue, linked, for the original's agents.
        auto_assign=third_party_of is None,
    )
    with quiet(not acknowledge), refused_files(content.refusals):
        ticket = create_ticket(actor=user, data=data)
    return Outcome(Status.PROCESSED, "", ticket, None)


def route(row: InboundMessage, envelope: list[str], headers: list[str]) -> tuple[Mailbox | None, Department]:
    """The department for a new ticket, from the strongest evidence down: the envelope recipient (or
    Delivered-To), the mailbox the message was fetched from, the To/Cc addresses, the default."""
    mailbox, department = _by_address(envelope)
    if department is not None:
        return mailbox, department
    if row.mailbox is not None:
        return row.mailbox, row.mailbox.department
    mailbox, department = _by_address(headers)
    if department is not None:
        return mailbox, department
    fallback = _fallback_department()
    if fallback is None:  # our copy may predate a bulk update (no signal): ask the database once more
        _addresses.clear()
        fallback = _fallback_department()
    if fallback is None:
        raise DomainError(_("No active department can receive mail."))
    return None, fallback


def _fallback_department() -> Department | None:
    active = [d for d in _addresses.get().departments if d.is_active]
    default = settings.TESSERA_MAIL_DEFAULT_DEPARTMENT
    return next((d for d in active if d.slug == default), None) or min(
        active, key=lambda d: d.pk, default=None
    )


def _by_address(addresses: list[str]) -> tuple[Mailbox | None, Department | None]:
    bases = [ids.base_address(address) for address in addresses]
    if not bases:
        return None, None
    known = _addresses.get()
    for base in bases:
        if base in known.mailboxes:
            return known.mailboxes[base], known.mailboxes[base].department
    for base in bases:
        if base in known.department_emails:
            return None, known.department_emails[base]
    return None, None
