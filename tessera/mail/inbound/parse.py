"""Parsing a raw message into what the pipeline needs, robust to real-world mail: broken charsets,
RFC 2047 headers, RFC 2231 file names, TNEF, huge or deeply nested MIME (refused with a clear reason)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses

import nh3
from django.utils.translation import gettext as _

MAX_PARTS = 1000
MAX_DEPTH = 20

AUTO_REPLY_SUBJECTS = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|risposta automatica|"
    r"fuori ufficio|odpowied[zź] automatyczna|poza biurem|r[ée]ponse automatique|absence)\b",
    re.IGNORECASE,
)
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


class MailUnreadable(Exception):
    """The message breaks one of our limits or cannot be parsed; the reason is stored for an admin."""


@dataclass
class Part:
    filename: str
    content_type: str
    content: bytes
    inline: bool = False
    note: str = ""


@dataclass
class Bounce:
    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    sender: str = ""
    sender_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    parts: list[Part] = field(default_factory=list)
    auto: str = ""  # "", "auto_reply", "bulk", "auto_generated"
    bounces: list[Bounce] = field(default_factory=list)
    is_report: bool = False
    auth_results: list[str] = field(default_factory=list)
    tessera_headers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def header(message: Message, name: str) -> str:
    """A header as text; an undecodable one falls back to its raw form instead of raising."""
    try:
        value = message.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except Exception:
        raw = message.get_all(name) if hasattr(message, "get_all") else None
        return " ".join(str(raw[0]).split()) if raw else ""


def headers(message: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in (message.get_all(name) or [])]
    except Exception:
        return []


def addresses(values: list[str]) -> list[str]:
    found = []
    for _name, address in getaddresses(values):
        address = address.strip().lower()
        if "@" in address and address not in found:
            found.append(address)
    return found


def message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value)


def decode_text(part: Message) -> str:
    """The text of a part, whatever its declared charset: unknown or lying charsets fall back to UTF-8,
    then Latin-1 (which never fails), instead of losing the message."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "us-ascii").strip().lower()
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


def html_to_text(markup: str) -> str:
    """Readable text from HTML: block ends become line breaks, every tag goes, entities are decoded."""
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>", "\n", markup)
    markup = re.sub(r"(?i)</(p|div|li|tr|h[1-6]|blockquote|table)\s*>", "\n", markup)
    markup = re.sub(r"(?i)<li\b[^>]*>", "- ", markup)
    text = html_lib.unescape(nh3.clean(markup, tags=set()))
    text = re.sub(r"[ \t\r\f\v\xa0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def sanitise_html(markup: str) -> str:
    return nh3.clean(markup)


def parse(raw: bytes) -> ParsedMail:
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as error:
        raise MailUnreadable(_("The message cannot be parsed: %(error)s") % {"error": error}) from error
    mail = ParsedMail()
    mail.message_id = header(message, "Message-ID")[:255]
    mail.in_reply_to = message_ids(header(message, "In-Reply-To"))
    mail.references = message_ids(header(message, "References"))
    mail.subject = header(message, "Subject")
    from_value = header(message, "From")
    senders = addresses([from_value])
    mail.sender = senders[0] if senders else ""
    names = getaddresses([from_value])
    mail.sender_name = names[0][0].strip()[:200] if names else ""
    mail.to = addresses(headers(message, "To"))
    mail.cc = addresses(headers(message, "Cc"))
    mail.delivered_to = addresses(headers(message, "Delivered-To") + headers(message, "X-Original-To"))
    mail.auth_results = headers(message, "Authentication-Results")
    for name in ("X-Tessera-Department", "X-Tessera-Priority"):
        value = header(message, name)
        if value:
            mail.tessera_headers[name.lower()] = value[:100]
    mail.auto = _automatic(message, mail.subject)
    counter = [0]
    _walk(message, mail, depth=0, counter=counter)
    if not mail.text and mail.html:
        mail.text = html_to_text(mail.html)
    return mail


def _automatic(message: Message, subject: str) -> str:
    """RFC 3834 and the de-facto headers of autoresponders; such mail is never answered."""
    auto_submitted = header(message, "Auto-Submitted").lower()
    precedence = header(message, "Precedence").lower()
    if auto_submitted.startswith("auto-replied") or precedence == "auto_reply":
        return "auto_reply"
    if any(header(message, h) for h in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")):
        return "auto_reply"
    if header(message, "X-Auto-Response-Suppress") and AUTO_REPLY_SUBJECTS.match(subject):
        return "auto_reply"
    if AUTO_REPLY_SUBJECTS.match(subject):
        return "auto_reply"
    if auto_submitted and auto_submitted != "no":
        return "auto_generated"
    if precedence in {"bulk", "list", "junk"} or header(message, "List-Id"):
        return "bulk"
    return_path = header(message, "Return-Path")
    if return_path.strip() == "<>":
        return "auto_generated"
    return ""


def _walk(part: Message, mail: ParsedMail, *, depth: int, counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > MAX_PARTS:
        raise MailUnreadable(
            _("The message has more than %(max)d MIME parts; it was not processed.") % {"max": MAX_PARTS}
        )
    if depth > MAX_DEPTH:
        raise MailUnreadable(
            _("The message nests MIME parts more than %(max)d levels deep; it was not processed.")
            % {"max": MAX_DEPTH}
        )
    content_type = part.get_content_type()
    if content_type == "multipart/report":
        mail.is_report = True
    if content_type == "message/delivery-status":
        mail.bounces += _bounces(part)
        return
    if part.is_multipart():
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_message, Message):
                _count(inner_message, depth + 1, counter)
                name = _filename(part) or _forwarded_name(inner_message)
                mail.parts.append(Part(name, "message/rfc822", inner_message.as_bytes()))
            return
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                _walk(child, mail, depth=depth + 1, counter=counter)
        return
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part)
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        text = decode_text(part)
        if content_type == "text/plain" and not mail.text:
            mail.text = text
        elif content_type == "text/html" and not mail.html:
            mail.html = text
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        return
    note = ""
    if content_type in TNEF_TYPES or (filename or "").lower() == "winmail.dat":
        filename = "winmail.dat"
        note = _("Outlook rich-text container (TNEF, winmail.dat)")
    if not filename:
        extension = content_type.split("/")[-1].split("+")[0][:10]
        filename = (
            f"{'image' if content_type.startswith('image/') else 'attachment'}-{counter[0]}.{extension}"
        )
    mail.parts.append(
        Part(
            filename[:255],
            content_type,
            payload,
            inline=disposition == "inline" or bool(part["Content-ID"]),
            note=note,
        )
    )


def _count(message: Message, depth: int, counter: list[int]) -> None:
    """Apply the part and depth limits inside attached messages too."""
    counter[0] += 1
    if counter[0] > MAX_PARTS or depth > MAX_DEPTH:
        raise MailUnreadable(
            _(
                "The message has more than %(parts)d MIME parts or nests them more than %(depth)d levels "
                "deep; it was not processed."
            )
            % {"parts": MAX_PARTS, "depth": MAX_DEPTH}
        )
    payload = message.get_payload()
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                _count(child, depth + 1, counter)


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""  # RFC 2231 and RFC 2047 decoded by the email package
    except Exception:
        name = ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()[:255]


def _forwarded_name(message: Message) -> str:
    subject = re.sub(r"[^\w .-]+", "", header(message, "Subject"))[:80].strip()
    return f"{subject or 'message'}.eml"


def _bounces(part: Message) -> list[Bounce]:
    blocks = part.get_payload()
    found = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, (Message, EmailMessage)):
            continue
        recipient = header(block, "Final-Recipient") or header(block, "Original-Recipient")
        if not recipient:
            continue
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        found.append(
            Bounce(
                recipient=address,
                action=header(block, "Action").lower(),
                status=header(block, "Status"),
                diagnostic=header(block, "Diagnostic-Code")[:500],
            )
        )
    return found
