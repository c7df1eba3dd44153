"""Signed ticket tokens carried by our outbound mail, so replies thread back to the right ticket.

A token is `<ticket id>-<HMAC of the id>`. It appears in our Message-IDs, in the plus-addressed Reply-To
and as a hidden marker in the body (for providers that rewrite Message-IDs). Without the key nobody can
forge one, so a token is proof that the sender received mail about that ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.conf import settings

# The patterns find anything shaped like a token, case-insensitively and with ASCII digits only, so a
# tampered one is seen (and reported) rather than skipped; `verify` then accepts only the exact bytes issued.
MESSAGE_ID_RE = re.compile(r"<?tessera\.([0-9]{1,18})-([0-9a-f]{16})\.[0-9a-z.]+@[^>\s]+>?", re.IGNORECASE)
MARKER_RE = re.compile(r"tessera-ref:([0-9]{1,18})-([0-9a-f]{16})", re.IGNORECASE)
PLUS_RE = re.compile(r"\+t([0-9]{1,18})-([0-9a-f]{16})@", re.IGNORECASE)


def _signature(ticket_id: int) -> str:
    key = f"tessera.mail.ticket:{settings.SECRET_KEY}".encode()
    return hmac.new(key, str(ticket_id).encode(), hashlib.sha256).hexdigest()[:16]


def token(ticket_id: int) -> str:
    return f"{ticket_id}-{_signature(ticket_id)}"


def verify(ticket_id: str, signature: str) -> int | None:
    """The ticket id if `<ticket_id>-<signature>` is exactly a token we issued, else None. Compared in
    constant time, byte for byte: no case folding, no leading zeros, nothing normalised."""
    if not (ticket_id.isascii() and ticket_id.isdigit()):
        return None
    number = int(ticket_id)
    given = f"{ticket_id}-{signature}".encode("utf-8", "surrogateescape")
    return number if hmac.compare_digest(token(number).encode(), given) else None


def mail_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "tessera.localhost"


def message_id(ticket_id: int | None = None) -> str:
    """A fresh Message-ID; for a ticket it carries the signed token."""
    nonce = secrets.token_hex(8)
    if ticket_id is None:
        return f"<tessera.{nonce}@{mail_domain()}>"
    return f"<tessera.{token(ticket_id)}.{nonce}@{mail_domain()}>"


def thread_root(ticket_id: int) -> str:
    """The ticket's stable thread id, referenced by every email about it so all clients group them."""
    return f"<tessera.{token(ticket_id)}.thread@{mail_domain()}>"


def marker(ticket_id: int) -> str:
    return f"tessera-ref:{token(ticket_id)}"


def reply_address(address: str, ticket_id: int) -> str:
    """support@example.com → support+t42-<sig>@example.com."""
    local, _, domain = address.rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}+t{token(ticket_id)}@{domain}"


def base_address(address: str) -> str:
    """Strip plus-addressing: support+anything@x → support@x (lower case)."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _verified(pattern: re.Pattern[str], values: list[str], bad: list[str] | None) -> list[int]:
    """Ticket ids of the valid tokens found in `values`, in order; token-shaped strings that fail
    verification are appended to `bad` (a tampered or guessed token, for the security log)."""
    found = []
    for value in values:
        for match in pattern.finditer(value):
            ticket_id = verify(match.group(1), match.group(2))
            if ticket_id is not None:
                found.append(ticket_id)
            elif bad is not None:
                bad.append(match.group(0)[:200])
    return found


def tickets_in_message_ids(values: list[str], bad: list[str] | None = None) -> list[int]:
    return _verified(MESSAGE_ID_RE, values, bad)


def ticket_in_addresses(addresses: list[str], bad: list[str] | None = None) -> int | None:
    return next(iter(_verified(PLUS_RE, addresses, bad)), None)


def ticket_in_body(text: str, bad: list[str] | None = None) -> int | None:
    return next(iter(_verified(MARKER_RE, [text], bad)), None)
