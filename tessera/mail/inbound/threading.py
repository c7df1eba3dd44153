"""Which ticket an inbound message continues, and how sure we are.

Signed evidence (our Message-IDs in In-Reply-To/References, the plus-addressed Reply-To, the hidden body
marker) proves the sender received mail about the ticket, not that they may join it (the pipeline decides
that). A follow-up naming any message already stored on a ticket (In-Reply-To/References: a customer's
own earlier mail, or our mail as a provider rewrote its id) and a ticket tag in the subject ([TS-42])
prove nothing, since anyone can copy them: they count only for a sender who may already post there.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.conf import settings

from tessera.accounts.models import User
from tessera.mail import ids
from tessera.mail.inbound.parse import ParsedMail
from tessera.mail.models import InboundMessage, OutboundEmail
from tessera.tickets import access
from tessera.tickets.models import Ticket

# How many of the newest References a follow-up is looked up by (a long thread lists hundreds).
MAX_REFERENCES = 30


@dataclass(frozen=True)
class Thread:
    ticket: Ticket
    signed: bool
    how: str


@functools.cache
def _subject_tag_re(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"\[{re.escape(prefix)}-(\d{{1,18}})\]", re.IGNORECASE)


def subject_tag_re() -> re.Pattern[str]:
    return _subject_tag_re(settings.TESSERA_TICKET_PREFIX)


def find_thread(
    mail: ParsedMail, recipients: list[str], sender: User | None = None, bad_tokens: list[str] | None = None
) -> Thread | None:
    """The ticket the message continues. Token-shaped strings that fail verification are added to
    `bad_tokens`."""
    candidates: list[tuple[int, bool, str]] = []
    for ticket_id in ids.tickets_in_message_ids(mail.in_reply_to + mail.references, bad_tokens):
        candidates.append((ticket_id, True, "message-id"))
    plus = ids.ticket_in_addresses(recipients, bad_tokens)
    if plus is not None:
        candidates.append((plus, True, "reply-address"))
    marked = ids.ticket_in_body(mail.text, bad_tokens) or ids.ticket_in_body(mail.html, bad_tokens)
    if marked is not None:
        candidates.append((marked, True, "body-marker"))
    for ticket_id, signed, how in candidates:
        ticket = _follow_merges(ticket_id)
        if ticket is not None:
            return Thread(ticket, signed, how)
    if sender is not None:
        for ticket_id in _tickets_of_stored_messages(mail, sender):
            ticket = _follow_merges(ticket_id)
            if ticket is not None and access.can_view_ticket(sender, ticket):
                return Thread(ticket, False, "stored-message")
    for match in subject_tag_re().finditer(mail.subject):
        ticket = _follow_merges(int(match.group(1)))
        if ticket is not None:
            return Thread(ticket, False, "subject-tag")
    return None


def _tickets_of_stored_messages(mail: ParsedMail, sender: User) -> list[int]:
    """Tickets of the messages the follow-up names, newest reference first: mail we received (by its
    Message-ID) and mail we sent whose id a provider replaced (by the provider's id)."""
    named = list(dict.fromkeys(reversed(mail.in_reply_to + mail.references)))[:MAX_REFERENCES]
    named = [value for value in named if value != mail.message_id]
    if not named:
        return []
    found = list(
        InboundMessage.objects.filter(message_id__in=named, ticket__isnull=False)
        .order_by("-received_at")
        .values_list("ticket_id", flat=True)[:MAX_REFERENCES]
    )
    bare = [value.strip("<>") for value in named]
    found += OutboundEmail.objects.filter(esp_message_id__in=named + bare, ticket__isnull=False).values_list(
        "ticket_id", flat=True
    )[:MAX_REFERENCES]
    return [ticket_id for ticket_id in dict.fromkeys(found) if ticket_id is not None]


def _follow_merges(ticket_id: int) -> Ticket | None:
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    for _hop in range(10):  # a merged ticket's conversation continues on its target
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    return ticket
