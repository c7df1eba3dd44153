"""Which ticket an inbound message continues, and how sure we are.

Signed evidence (our Message-IDs in In-Reply-To/References, the plus-addressed Reply-To, the hidden body
marker) proves the sender received mail about the ticket. A ticket tag in the subject ([TS-42]) proves
nothing: anyone can type it, so the pipeline honours it only for a sender who may already post there.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from django.conf import settings

from tessera.mail import ids
from tessera.mail.inbound.parse import ParsedMail
from tessera.tickets.models import Ticket


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


def find_thread(mail: ParsedMail, recipients: list[str]) -> Thread | None:
    candidates: list[tuple[int, bool, str]] = []
    for ticket_id in ids.tickets_in_message_ids(mail.in_reply_to + mail.references):
        candidates.append((ticket_id, True, "message-id"))
    plus = ids.ticket_in_addresses(recipients)
    if plus is not None:
        candidates.append((plus, True, "reply-address"))
    marked = ids.ticket_in_body(mail.text) or ids.ticket_in_body(mail.html)
    if marked is not None:
        candidates.append((marked, True, "body-marker"))
    for match in subject_tag_re().finditer(mail.subject):
        candidates.append((int(match.group(1)), False, "subject-tag"))
    for ticket_id, signed, how in candidates:
        ticket = _follow_merges(ticket_id)
        if ticket is not None:
            return Thread(ticket, signed, how)
    return None


def _follow_merges(ticket_id: int) -> Ticket | None:
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    for _hop in range(10):  # a merged ticket's conversation continues on its target
        if ticket is None or ticket.merged_into_id is None:
            return ticket
        ticket = Ticket.objects.filter(pk=ticket.merged_into_id).first()
    return ticket
