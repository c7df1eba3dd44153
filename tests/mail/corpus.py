"""Realistic messages built by the tests: the styles of Gmail, Outlook, Apple Mail and Thunderbird, forwards,
Polish ISO-8859-2, encoded attachment names, auto-replies, bounces, spoofed senders, huge MIME."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid, parseaddr

_n = itertools.count(1)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(30)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
AUTH_PASS = (
    "mx.tessera.test; spf=pass smtp.mailfrom=example.com; dkim=pass; dmarc=pass header.from=example.com"
)


def _headers(
    msg: EmailMessage | MIMEBase, *, sender: str, to: str, subject: str, extra: dict[str, str] | None
) -> None:
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(idstring=str(next(_n)), domain="client.example")
    # Our receiving server's stamp: authenticated for the sender's own domain.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "example.com"
    msg["Authentication-Results"] = AUTH_PASS.replace("example.com", domain)
    for name, value in (extra or {}).items():
        if name in msg:
            del msg[name]
        msg[name] = value


def plain(
    *,
    sender: str = "Carla <carla@example.com>",
    to: str = "support@tessera.localhost",
    subject: str = "VPS unreachable",
    body: str = "My server 203.0.113.10 does not answer since 9:00.",
    extra: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    _headers(msg, sender=sender, to=to, subject=subject, extra=extra)
    msg.set_content(body)
    return msg.as_bytes()


def reply(
    original: EmailMessage,
    *,
    sender: str,
    body: str,
    style: str = "gmail",
    extra: dict[str, str] | None = None,
) -> bytes:
    """A reply to one of our notifications, quoting it the way each client does."""
    quoted_text = original.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    quoted = "\n".join(f"> {line}" for line in quoted_text.splitlines())
    if style == "gmail":
        text = (
            f"{body}\n\nOn Mon, 2 Mar 2026 at 10:00, Support <support@tessera.localhost> wrote:\n{quoted}\n"
        )
    elif style == "outlook":
        text = (
            f"{body}\n\n________________________________\nFrom: Support <support@tessera.localhost>\n"
            f"Sent: Monday, March 2, 2026 10:00 AM\nTo: {sender}\n"
            f"Subject: {original['Subject']}\n\n{quoted_text}\n"
        )
    elif style == "apple":
        text = (
            f"{body}\n\nSent from my iPhone\n\n"
            f"> On 2 Mar 2026, at 10:00, Support <support@tessera.localhost> wrote:\n>\n{quoted}\n"
        )
    elif style == "thunderbird":
        text = f"{body}\n\nOn 02/03/2026 10:00, Support wrote:\n{quoted}\n"
    elif style == "italian":
        text = (
            f"{body}\n\nIl giorno lun 2 mar 2026 alle ore 10:00 Support <support@tessera.localhost> "
            f"ha scritto:\n{quoted}\n"
        )
    else:
        raise ValueError(style)
    msg = EmailMessage()
    reply_to = str(original.get("Reply-To") or original["From"])
    _headers(msg, sender=sender, to=reply_to, subject=f"Re: {original['Subject']}", extra=None)
    msg["In-Reply-To"] = original["Message-ID"]
    msg["References"] = f"{original.get('References', '')} {original['Message-ID']}".strip()
    for name, value in (extra or {}).items():
        del msg[name]
        if value:
            msg[name] = value
    msg.set_content(text)
    return msg.as_bytes()


def polish_iso_8859_2() -> bytes:
    msg = MIMEText(
        "Dzień dobry, serwer nie działa. Proszę o pomoc. Zażółć gęślą jaźń.", "plain", "iso-8859-2"
    )
    _headers(
        msg,
        sender="=?iso-8859-2?q?Pawe=B3_=AFak?= <pawel@example.pl>",
        to="support@tessera.localhost",
        subject="=?iso-8859-2?q?Awaria_serwera_=B3=F3d=BC?=",
        extra=None,
    )
    return msg.as_bytes()


def with_attachments(*, sender: str = "carla@example.com") -> bytes:
    msg = MIMEMultipart("mixed")
    _headers(msg, sender=sender, to="support@tessera.localhost", subject="Screenshot attached", extra=None)
    related = MIMEMultipart("related")
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText("See the screenshot.", "plain", "utf-8"))
    alternative.attach(
        MIMEText(
            '<p>See the <b>screenshot</b>: <img src="cid:shot1"></p><script>alert(1)</script>',
            "html",
            "utf-8",
        )
    )
    related.attach(alternative)
    image = MIMEBase("image", "png")
    image.set_payload(PNG)
    from email import encoders

    encoders.encode_base64(image)
    image["Content-ID"] = "<shot1>"
    image["Content-Disposition"] = "inline"
    related.attach(image)
    msg.attach(related)
    pdf = MIMEApplication(PDF, "pdf")
    # RFC 2231 encoded non-ASCII file name
    pdf.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "fattura-è-ł.pdf"))
    msg.attach(pdf)
    exe = MIMEApplication(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(100), "octet-stream")
    exe.add_header("Content-Disposition", "attachment", filename="=?utf-8?b?cHJvZ3JhbS5leGU=?=")
    msg.attach(exe)
    tnef = MIMEApplication(b"\x78\x9f\x3e\x22" + bytes(64), "ms-tnef")
    tnef.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    msg.attach(tnef)
    return msg.as_bytes()


def many_parts(count: int = 200) -> bytes:
    msg = MIMEMultipart("mixed")
    _headers(msg, sender="logs@example.com", to="support@tessera.localhost", subject="Logs", extra=None)
    msg.attach(MIMEText("Two hundred log files.", "plain"))
    for i in range(count - 1):
        part = MIMEText(f"log line {i}\n", "plain")
        part.add_header("Content-Disposition", "attachment", filename=f"log-{i}.txt")
        msg.attach(part)
    return msg.as_bytes()


def deeply_nested(depth: int = 40) -> bytes:
    inner: MIMEBase = MIMEText("deep", "plain")
    for _ in range(depth):
        outer = MIMEMultipart("mixed")
        outer.attach(inner)
        inner = outer
    _headers(inner, sender="nest@example.com", to="support@tessera.localhost", subject="Nested", extra=None)
    return inner.as_bytes()


def forward(*, sender: str = "carla@example.com") -> bytes:
    body = (
        "Please look at this.\n\n---------- Forwarded message ---------\nFrom: Monitoring <noc@example.com>\n"
        "Date: Mon, 2 Mar 2026 at 08:00\nSubject: Disk full\nTo: carla@example.com\n\n"
        "Disk /var is 100% full.\n"
    )
    return plain(sender=sender, subject="Fwd: Disk full", body=body)


def out_of_office(*, sender: str = "carla@example.com", headers: dict[str, str] | None = None) -> bytes:
    return plain(
        sender=sender,
        subject="Automatic reply: [TS-1] We received your request",
        body="I am out of the office until Monday.",
        extra=headers or {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    )


def bounce(recipient: str) -> bytes:
    """A Postfix-style delivery status notification (RFC 3464), written out as a server sends it."""
    return (
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        "To: support@tessera.localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <bounce.{next(_n)}@mx.example.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f"Authentication-Results: {AUTH_PASS}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"\r\n\r\n'
        "--BOUNDARY\r\nContent-Type: text/plain\r\n\r\n"
        f"Delivery to {recipient} failed permanently.\r\n"
        "--BOUNDARY\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        "--BOUNDARY--\r\n"
    ).encode()


def spoofed(*, claimed: str) -> bytes:
    return plain(
        sender=claimed,
        subject="Please change my server password",
        body="Reset the root password and send it to me.",
        extra={
            "Authentication-Results": (
                "mx.tessera.test; spf=fail smtp.mailfrom=evil.example; dmarc=fail header.from=example.com"
            )
        },
    )


# Hostile: sender authentication and reply tokens ----------------------------------------------------------
# Each claims to come from `sender` (a registered customer in the tests) and must not be trusted as them.


def with_auth(*, sender: str, stamps: list[str] | None, subject: str = "Cancel my server") -> bytes:
    """A message whose Authentication-Results are exactly `stamps`, topmost first (None: no header)."""
    msg = EmailMessage()
    _headers(msg, sender=sender, to="support@tessera.localhost", subject=subject, extra=None)
    del msg["Authentication-Results"]
    msg.set_content("Please cancel my server today and refund me to IBAN XX00 0000.")
    # Prepended as a receiving server does, written raw (8-bit when the id is not ASCII).
    return (
        b"".join(f"Authentication-Results: {stamp}\r\n".encode() for stamp in stamps or []) + msg.as_bytes()
    )


def hostile_auth_stamps(domain: str = "example.com") -> dict[str, tuple[list[str] | None, str]]:
    """name -> (stamps, the InboundMessage.Auth value expected): none of them authenticates the sender."""
    return {
        "no-stamp-at-all": (None, "missing"),
        "lookalike-suffix-id": (
            [f"mx.tessera.test.evil.example; dmarc=pass header.from={domain}"],
            "missing",
        ),
        "lookalike-unicode-id": ([f"mx.tessera.t\u0435st; dmarc=pass header.from={domain}"], "missing"),
        "lookalike-trailing-dot": ([f"mx.tessera.test.; dmarc=pass header.from={domain}"], "missing"),
        "other-server-pass": (
            [f"mx.attacker.example; spf=pass smtp.mailfrom={domain}; dmarc=pass"],
            "missing",
        ),
        "forged-pass-below-our-fail": (
            [
                f"mx.tessera.test; spf=fail smtp.mailfrom={domain}; dmarc=fail header.from={domain}",
                f"mx.tessera.test; spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}",
            ],
            "dmarc_fail",
        ),
        "spf-fail-no-dmarc": ([f"mx.tessera.test; spf=fail smtp.mailfrom={domain}; dkim=none"], "spf_fail"),
        "spf-softfail": ([f"mx.tessera.test; spf=softfail smtp.mailfrom={domain}; dmarc=none"], "spf_fail"),
        "spf-pass-unaligned": (
            [f"mx.tessera.test; spf=pass smtp.mailfrom=attacker.example; dmarc=none header.from={domain}"],
            "no_pass",
        ),
        "dkim-pass-unaligned": (
            [f"mx.tessera.test; dkim=pass header.d=attacker.example; dmarc=none header.from={domain}"],
            "no_pass",
        ),
        "dmarc-pass-for-another-from": (
            ["mx.tessera.test; dmarc=pass header.from=attacker.example"],
            "no_pass",
        ),
        "unreadable-stamp": (["mx.tessera.test; ;;=;garbage(unclosed"], "no_pass"),
        "stamp-says-none": (["mx.tessera.test; none"], "no_pass"),
    }


def tampered_tokens(ticket_id: int, signature: str) -> dict[str, dict[str, str]]:
    """Headers carrying a ticket's token altered in ways a lenient comparison would accept."""
    upper = signature.upper()
    return {
        "uppercase-reply-address": {"To": f"support+t{ticket_id}-{upper}@tessera.localhost"},
        "leading-zero-reply-address": {"To": f"support+t0{ticket_id}-{signature}@tessera.localhost"},
        "uppercase-message-id": {
            "In-Reply-To": f"<tessera.{ticket_id}-{upper}.abc@tessera.localhost>",
            "References": f"<tessera.{ticket_id}-{upper}.abc@tessera.localhost>",
        },
    }
