"""Parsing a raw message into what the pipeline needs, robust to real-world mail: broken charsets,
RFC 2047 headers, RFC 2231 file names, TNEF (decoded with tnefparse), huge or deeply nested MIME (refused
with a clear reason). Nothing is dropped silently: what is not kept is said in `ParsedMail.notes`.

The standard library's legacy (compat32) policy parses the MIME structure; its header values are the raw
text, and we decode the dozen we read ourselves (`decode_words`). The modern policy builds a structured
object for every header it is asked for, which cost more than the whole MIME parse."""

from __future__ import annotations

import contextlib
import hashlib
import html as html_lib
import re
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses

import nh3
import tnefparse
from django.utils.translation import gettext as _

MAX_PARTS = 1000
MAX_DEPTH = 20

AUTO_REPLY_SUBJECTS = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|risposta automatica|"
    r"fuori ufficio|odpowied[zź] automatyczna|poza biurem|r[ée]ponse automatique|absence)\b",
    re.IGNORECASE,
)
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
# Values of Microsoft's X-Auto-Response-Suppress that ask for no automatic reply (acknowledgements are).
SUPPRESS_AUTO_RESPONSES = {"all", "autoreply", "oof"}
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# The headers the pipeline reads from the top-level message (lower case).
READ_HEADERS = frozenset(
    {
        "message-id",
        "in-reply-to",
        "references",
        "subject",
        "from",
        "to",
        "cc",
        "delivered-to",
        "x-original-to",
        "authentication-results",
        "x-tessera-department",
        "x-tessera-priority",
        "auto-submitted",
        "precedence",
        "x-autoreply",
        "x-autorespond",
        "x-autoresponder",
        "list-id",
        "return-path",
        "x-auto-response-suppress",
    }
)
_parser = BytesParser(policy=policy.compat32)


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
    # To, Cc, Delivered-To and X-Original-To as written (not lower-cased): reply tokens are compared exactly.
    recipient_headers: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""
    parts: list[Part] = field(default_factory=list)
    auto: str = ""  # "", "auto_reply", "bulk", "auto_generated"
    suppress_ack: bool = False  # X-Auto-Response-Suppress asks for no automatic reply
    bounces: list[Bounce] = field(default_factory=list)
    returned_ids: list[str] = field(default_factory=list)  # Message-IDs of our mail a bounce returns
    is_report: bool = False
    auth_results: list[str] = field(default_factory=list)
    tessera_headers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was not kept, and why (for agents)
    texts: list[str] = field(default_factory=list)  # every text/plain body part, in order
    htmls: list[str] = field(default_factory=list)  # every text/html body part, in order


def decode_bytes(data: bytes, charset: str) -> str:
    """Text in its declared charset; an unknown or lying one falls back to UTF-8, then Latin-1 (which
    never fails), instead of losing the message."""
    for candidate in (charset, "utf-8"):
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def _unicode(value: str) -> str:
    """A raw header value as text, unfolded: 8-bit bytes (kept as surrogates by the parser) are read as
    UTF-8 (RFC 6532), else Latin-1."""
    if not value.isascii():
        with contextlib.suppress(UnicodeEncodeError):  # already text
            value = decode_bytes(value.encode("ascii", "surrogateescape"), "utf-8")
    return " ".join(value.split())


def decode_words(value: str) -> str:
    """RFC 2047 encoded-words decoded by the standard library, each in its own charset (with the fallbacks
    of `decode_bytes`); a header whose encoded-words do not decode stays as written."""
    if "=?" not in value:
        return value
    try:
        pieces = decode_header(value)
    except HeaderParseError:
        return value
    return "".join(
        decode_bytes(data, (charset or "us-ascii").split("*", 1)[0]) if isinstance(data, bytes) else data
        for data, charset in pieces
    )


def clean_name(value: str) -> str:
    """A display name without control characters (an encoded CR/LF, a NUL): they would break every
    header and page the name appears in, and mean nothing in a name."""
    return " ".join(CONTROL_CHARACTERS.sub(" ", value).split())


def header(message: Message, name: str) -> str:
    """The first such header of a part as unfolded text ('' when absent)."""
    name = name.lower()
    for key, value in message.raw_items():
        if key.lower() == name:
            return _unicode(value)
    return ""


def addresses(values: list[str]) -> list[str]:
    found = []
    for _name, address in getaddresses(values):
        address = address.strip().lower()
        if "@" in address and address not in found:
            found.append(address)
    return found


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


def _read_headers(message: Message) -> dict[str, list[str]]:
    """The headers we use, in one pass over the message's header list, as unfolded text."""
    found: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        key = name.lower()
        if key in READ_HEADERS:
            found.setdefault(key, []).append(_unicode(value))
    return found


# What makes a message the message it is: these headers and the body. Trace headers that each relay or
# fetch path adds (Received, Return-Path, Delivered-To, Authentication-Results …) are left out, so a
# re-delivery is recognised; a different message that reuses a Message-ID is not taken for it.
CONTENT_HEADERS = ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references")


def summary(raw: bytes) -> tuple[str, str, str, str]:
    """Message-ID, sender address, subject and a digest of the content (CONTENT_HEADERS and the body),
    from one parse of the header block (cheap, never raises)."""
    ends = [i for i in (raw.find(b"\n\n", 0, 262_144), raw.find(b"\r\n\r\n", 0, 262_144)) if i >= 0]
    end = min(ends, default=262_144)
    head, body = raw[:end], raw[end:]  # the header block: not the body's lines too
    digest = hashlib.sha256()
    try:
        fields = _read_headers(_parser.parsebytes(head, headersonly=True))
        senders = getaddresses(fields.get("from", [])[:1])
    except Exception:  # a mangled header block is stored anyway and explained at processing
        digest.update(raw)
        return "", "", "", digest.hexdigest()
    for name in CONTENT_HEADERS:
        for value in fields.get(name, []):
            digest.update(f"{name}:{value}\n".encode("utf-8", "surrogateescape"))
    digest.update(b"\n" + body.replace(b"\r\n", b"\n").strip())
    first = {name: values[0] for name, values in fields.items()}
    sender = senders[0][1].strip().lower() if senders else ""
    subject = decode_words(first.get("subject", ""))
    return first.get("message-id", "")[:255], sender[:320], subject[:250], digest.hexdigest()


def parse(raw: bytes) -> ParsedMail:
    try:
        message = _parser.parsebytes(raw)
    except Exception as error:
        raise MailUnreadable(_("The message cannot be parsed: %(error)s") % {"error": error}) from error
    fields = _read_headers(message)
    first = {name: values[0] for name, values in fields.items()}
    mail = ParsedMail()
    mail.message_id = first.get("message-id", "")[:255]
    mail.in_reply_to = MESSAGE_ID.findall(first.get("in-reply-to", ""))
    mail.references = MESSAGE_ID.findall(first.get("references", ""))
    mail.subject = decode_words(first.get("subject", ""))
    names = getaddresses([first.get("from", "")])
    mail.sender = next((a.strip().lower() for _n, a in names if "@" in a), "")
    mail.sender_name = clean_name(decode_words(names[0][0]))[:200] if names else ""
    mail.to = addresses(fields.get("to", []))
    mail.cc = addresses(fields.get("cc", []))
    mail.delivered_to = addresses(fields.get("delivered-to", []) + fields.get("x-original-to", []))
    mail.recipient_headers = [
        value for name in ("to", "cc", "delivered-to", "x-original-to") for value in fields.get(name, [])
    ]
    mail.auth_results = fields.get("authentication-results", [])
    for name in ("x-tessera-department", "x-tessera-priority"):
        if first.get(name):
            mail.tessera_headers[name] = first[name][:100]
    mail.auto = _automatic(first, mail.subject)
    suppress = {v.strip().lower() for v in first.get("x-auto-response-suppress", "").split(",")}
    mail.suppress_ack = bool(suppress & SUPPRESS_AUTO_RESPONSES)
    counter = [0]
    _walk(message, mail, depth=0, counter=counter)
    # Every body part is kept, in order: clients split a message into several around inline files.
    mail.text = "\n\n".join(t.strip("\r\n") for t in mail.texts if t.strip())
    mail.html = "\n".join(h for h in mail.htmls if h.strip())
    if not mail.text and mail.html:
        mail.text = html_to_text(mail.html)
    return mail


def _automatic(first: dict[str, str], subject: str) -> str:
    """RFC 3834 and the de-facto headers of autoresponders; such mail is never answered."""
    auto_submitted = first.get("auto-submitted", "").lower()
    precedence = first.get("precedence", "").lower()
    if auto_submitted.startswith("auto-replied") or precedence == "auto_reply":
        return "auto_reply"
    if any(first.get(h) for h in ("x-autoreply", "x-autorespond", "x-autoresponder")):
        return "auto_reply"
    if AUTO_REPLY_SUBJECTS.match(subject):
        return "auto_reply"
    if auto_submitted and auto_submitted != "no":
        return "auto_generated"
    if precedence in {"bulk", "list", "junk"} or first.get("list-id"):
        return "bulk"
    if first.get("return-path", "").strip() == "<>":
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
    if mail.is_report and content_type in ("message/rfc822", "text/rfc822-headers"):
        mail.returned_ids += _returned_ids(part)
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
        (mail.texts if content_type == "text/plain" else mail.htmls).append(_decode_text(part))
        return
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        mail.notes.append(
            _("An empty %(type)s part (%(name)s) was dropped: it carries nothing.")
            % {"type": content_type, "name": filename or _("no name")}
        )
        return
    note = ""
    if content_type in TNEF_TYPES or (filename or "").lower() == "winmail.dat":
        if _unpack_tnef(payload, mail):
            return
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
            inline=disposition == "inline" or "content-id" in part,
            note=note,
        )
    )


def _unpack_tnef(payload: bytes, mail: ParsedMail) -> bool:
    """The files (and the text, when the message has none) inside Outlook's winmail.dat; False when it
    cannot be decoded or carries nothing, so the caller keeps the original file."""
    try:
        container = tnefparse.TNEF(payload)
        files = [(a.long_filename() or a.name, a.data) for a in container.attachments]
        body = container.body
    except Exception:  # a damaged container: the original is kept for the agent to open
        return False
    files = [(_safe_name(str(name)) or "attachment", data) for name, data in files if data]
    text = decode_bytes(body, "cp1252") if isinstance(body, bytes) else str(body or "")
    if not files and not text.strip():
        return False
    for name, data in files:
        mail.parts.append(
            Part(name[:255], "application/octet-stream", bytes(data), note=_("from winmail.dat"))
        )
    if text.strip():
        mail.texts.append(text.strip("\x00"))
    return True


def _returned_ids(part: Message) -> list[str]:
    """The Message-ID of the original message a delivery report returns (whole or its headers only)."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return MESSAGE_ID.findall(header(payload[0], "Message-ID"))
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes):
        with contextlib.suppress(Exception):
            return MESSAGE_ID.findall(header(_parser.parsebytes(raw, headersonly=True), "Message-ID"))
    return []


def _decode_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = (part.get_content_charset() or "us-ascii").strip().lower()
    except Exception:  # a mangled parameter list: the fallbacks below still read the text
        charset = "us-ascii"
    return decode_bytes(payload, charset)


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
        # RFC 2231 is decoded by the email package; RFC 2047 (which Outlook uses, though the RFC forbids
        # it in parameters) by us.
        name = decode_words(part.get_filename() or "")
    except Exception:
        name = ""
    return _safe_name(name)


def _safe_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()[:255]


def _forwarded_name(message: Message) -> str:
    subject = re.sub(r"[^\w .-]+", "", decode_words(header(message, "Subject")))[:80].strip()
    return f"{subject or 'message'}.eml"


def _bounces(part: Message) -> list[Bounce]:
    blocks = part.get_payload()
    found = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Message):
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
