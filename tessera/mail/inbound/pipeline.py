"""Processing one stored inbound message, in order: parse → bounce? → authentication → loop and noise
guards → sender → thread → content → ticket or reply. Every decision is stored on the row with its reason.

The whole of one attempt runs in one transaction: either the ticket/reply and the row's new status
commit together, or nothing does and the row is marked failed with the error (in a second, tiny
transaction), so a bad message never blocks the next one and is never half-saved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import authres
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.accounts.services import create_contact
from tessera.core import clock
from tessera.core.errors import DomainError, IllegalTransition
from tessera.core.refcache import ReferenceTable
from tessera.mail import ids
from tessera.mail.inbound.parse import MailUnreadable, ParsedMail, Part, parse, sanitise_html
from tessera.mail.inbound.store import read_raw
from tessera.mail.inbound.threading import Thread, find_thread
from tessera.mail.models import BouncingAddress, InboundMessage, Mailbox
from tessera.mail.notify import quiet
from tessera.mail.outbound import mark_bouncing
from tessera.mail.tracking import clear_undeliverable
from tessera.tickets import access
from tessera.tickets.attachments import CheckedFile, check_daily_quota, check_file
from tessera.tickets.models import Channel, Priority, Ticket
from tessera.tickets.services import BODY_MAX, NewTicket, add_reply, create_ticket, set_cc

logger = logging.getLogger("tessera.mail.inbound")
Status = InboundMessage.Status
SYSTEM_EMAIL = "mail-robot@tessera.invalid"
FOLD_LANGUAGES = ["en", "it", "pl", "fr"]
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
]


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

    if mail.bounces or mail.is_report:
        return _bounce(mail)
    failure = authentication_failure(mail.auth_results)
    if failure:
        return Outcome(Status.QUARANTINED, failure)
    sender = mail.sender
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
    if _over_rate(row, sender):
        return Outcome(
            Status.QUARANTINED,
            _("More than %(limit)d messages from %(sender)s in the last hour: held as a possible mail storm.")
            % {"limit": settings.TESSERA_MAIL_SENDER_LIMIT, "sender": sender},
        )
    if mail.auto == "auto_reply":
        return Outcome(
            Status.IGNORED, _("An automatic reply (out of office or similar); not added and never answered.")
        )

    user = User.objects.filter(email=sender).first()
    # They write to us, so the address works again (an undeliverable address is always bouncing too).
    if BouncingAddress.objects.filter(email=sender).delete()[0]:
        clear_undeliverable(sender)
    recipients = list(dict.fromkeys([*row.envelope_to, *mail.delivered_to, *mail.to, *mail.cc]))
    thread = find_thread(mail, recipients)
    files = _attachments(mail.parts, row, user)

    with quiet(bool(mail.auto)):
        if thread is not None:
            outcome = _reply(row, mail, thread, user, files)
            if outcome is not None:
                return outcome
        return _new_ticket(row, mail, user, ours, files)


def _bounce(mail: ParsedMail) -> Outcome:
    failed = [b for b in mail.bounces if b.action == "failed" or b.status.startswith("5")]
    for bounce in failed:
        mark_bouncing(bounce.recipient, f"{bounce.status} {bounce.diagnostic}".strip())
    if failed:
        return Outcome(
            Status.IGNORED,
            _("Delivery failure report: %(addresses)s marked as bouncing.")
            % {"addresses": ", ".join(b.recipient for b in failed)},
        )
    return Outcome(Status.IGNORED, _("A delivery report without failures; nothing to do."))


def authentication_failure(values: list[str]) -> str:
    """The reason to quarantine, from the Authentication-Results our own receiving server wrote (matched
    by its authserv-id); headers written by anyone else are ignored, as RFC 8601 asks."""
    authserv_id = settings.TESSERA_MAIL_AUTHSERV_ID.lower()
    if not authserv_id:
        return ""
    for value in values:
        try:
            parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except Exception:  # unparseable: cannot be trusted either way
            logger.info("ignoring an unparseable Authentication-Results header")
            continue
        if str(parsed.authserv_id).lower() != authserv_id:
            continue
        for result in parsed.results:
            method, verdict = str(result.method).lower(), str(result.result).lower()
            if method in ("dmarc", "spf") and verdict == "fail":
                return _(
                    "%(method)s check failed at %(server)s: the sender may be forged, so the message was not "
                    "attached to the account it claims."
                ) % {"method": method.upper(), "server": authserv_id}
        return ""  # only the topmost header of our server counts
    return ""


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


def _attachments(parts: list[Part], row: InboundMessage, sender: User | None) -> list[ContentFile[bytes]]:
    """Files that pass the ticket attachment rules and the sender's daily quota; each refused one is
    noted with its reason."""
    accepted: list[ContentFile[bytes]] = []
    checked: list[CheckedFile] = []
    for part in parts:
        label = part.filename + (f" ({part.note})" if part.note else "")
        if len(accepted) >= settings.TESSERA_MAX_ATTACHMENTS:
            row.notes.append(
                _("“%(name)s” was not attached: at most %(max)d attachments per message.")
                % {"name": label, "max": settings.TESSERA_MAX_ATTACHMENTS}
            )
            continue
        upload = ContentFile(part.content, name=part.filename)
        try:
            this = check_file(upload)
            check_daily_quota(sender, [*checked, this])
        except DomainError as error:
            row.notes.append(_("%(name)s: %(reason)s") % {"name": label, "reason": error.message})
            continue
        checked.append(this)
        accepted.append(upload)
    return accepted


def _body(text: str, *, fold: bool) -> str:
    text = text.replace("\r\n", "\n").strip()
    if fold and text:
        from mailparser_reply import EmailReplyParser

        try:
            folded = EmailReplyParser(languages=FOLD_LANGUAGES).parse_reply(text).strip()
        except Exception:  # the folding library must never cost us a message
            folded = ""
        text = folded or text
    if len(text) > BODY_MAX:
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
    row: InboundMessage, mail: ParsedMail, thread: Thread, user: User | None, files: list[ContentFile[bytes]]
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
            return Outcome(
                Status.FAILED,
                _("%(agent)s replied to %(ref)s but does not work in its department.")
                % {"agent": user.email, "ref": ticket.reference},
            )
        # A signed reference proves they received our mail about this ticket (a CC or BCC recipient,
        # or someone the requester forwarded it to): they join as CC, the requester stays.
        user = user or _contact_for(mail)
        set_cc(
            actor=ticket.requester,
            ticket=ticket,
            contacts=[*ticket.cc.all(), user],
            channel=Channel.EMAIL,
        )
        row.notes.append(_("%(email)s was added to the ticket's CC.") % {"email": user.email})
    if user is None:  # unreachable: may_post implies a user; keeps the type checker honest
        return None
    try:
        message = add_reply(
            actor=user,
            ticket=ticket,
            body=_body(mail.text, fold=True),
            channel=Channel.EMAIL,
            files=list(files),
        )
    except IllegalTransition:
        row.notes.append(
            _("%(ref)s is closed (or past its reopen window): opened a new ticket.")
            % {"ref": ticket.reference}
        )
        return None
    return Outcome(Status.PROCESSED, "", ticket, message.pk)


def _new_ticket(
    row: InboundMessage,
    mail: ParsedMail,
    user: User | None,
    ours: set[str],
    files: list[ContentFile[bytes]],
) -> Outcome:
    envelope = [*row.envelope_to, *mail.delivered_to]
    mailbox, department = route(row, envelope, [*mail.to, *mail.cc])
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
    others = [a for a in mail.to + mail.cc if a not in ours]
    cc = [
        person
        for person in (User.objects.filter(email__in=others) if others else [])
        if person.pk != user.pk and not person.is_agent and person.is_active
    ]
    subject = " ".join(mail.subject.split())[:250] or _("(no subject)")
    ticket = create_ticket(
        actor=user,
        data=NewTicket(
            subject=subject,
            description=_body(mail.text, fold=False),
            department=department,
            priority=priority,
            channel=Channel.EMAIL,
            cc=cc,
            files=list(files),
        ),
    )
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
