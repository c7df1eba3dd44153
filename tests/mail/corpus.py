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
from typing import Any

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


# Content that must never be lost or changed silently (issue 17) ------------------------------------------


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def _ooxml(part: str) -> bytes:
    return zip_bytes({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>", part: b"<x/>"})


# One file of each zip-based format, as a customer's program writes it.
ZIP_FORMATS: dict[str, bytes] = {
    "logs.zip": zip_bytes({"app.log": b"ERROR 42\n" * 50, "etc/app.conf": b"port=80\n"}),
    "letter.docx": _ooxml("word/document.xml"),
    "budget.xlsx": _ooxml("xl/workbook.xml"),
    "minutes.odt": zip_bytes(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document-content/>"}
    ),
    "tool.jar": zip_bytes(
        {"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\n", "Main.class": b"\xca\xfe\xba\xbe"}
    ),
    "app.apk": zip_bytes({"AndroidManifest.xml": b"\x03\x00\x08\x00", "classes.dex": b"dex\n035\x00"}),
}
HTML_REPORT = (
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script><h1>Q3 report</h1></body></html>"
)
SVG_CHART = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(64)


def with_files(
    files: dict[str, bytes], *, sender: str = "carla@example.com", body: str = "Files attached.", **kw: Any
) -> bytes:
    """A message with the given files attached as a client sends them (application/octet-stream)."""
    msg = MIMEMultipart("mixed")
    _headers(
        msg, sender=sender, to="support@tessera.localhost", subject=kw.get("subject", "Files"), extra=None
    )
    msg.attach(MIMEText(body, "plain", "utf-8"))
    for name, data in files.items():
        part = MIMEApplication(data, "octet-stream")
        part.add_header("Content-Disposition", "attachment", filename=name)
        msg.attach(part)
    return msg.as_bytes()


def _tnef_object(level: int, name: int, kind: int, data: bytes) -> bytes:
    import struct

    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)


def tnef(files: dict[str, bytes], body: str = "") -> bytes:
    """An Outlook winmail.dat (TNEF) carrying `files` (and a plain body), as Outlook writes its attributes."""
    import struct

    out = struct.pack("<IH", 0x223E9F78, 0x1234)
    out += _tnef_object(1, 0x9006, 0x0008, struct.pack("<I", 0x10000))  # TNEF version
    out += _tnef_object(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # OEM code page
    if body:
        out += _tnef_object(1, 0x800C, 0x0002, body.encode("cp1252"))  # attBody
    for name, data in files.items():
        out += _tnef_object(2, 0x9002, 0x0006, bytes(14))  # attAttachRendData starts an attachment
        out += _tnef_object(2, 0x8010, 0x0001, name.encode("cp1252") + b"\x00")  # attAttachTitle
        out += _tnef_object(2, 0x800F, 0x0006, data)  # attAttachData
    return out


def with_winmail(container: bytes, *, sender: str = "carla@example.com") -> bytes:
    msg = MIMEMultipart("mixed")
    _headers(msg, sender=sender, to="support@tessera.localhost", subject="Outlook files", extra=None)
    msg.attach(MIMEText("", "plain", "utf-8"))
    part = MIMEApplication(container, "ms-tnef")
    part.add_header("Content-Disposition", "attachment", filename="winmail.dat")
    msg.attach(part)
    return msg.as_bytes()


def several_text_parts(*, sender: str = "carla@example.com") -> bytes:
    """Apple Mail style: text, an inline image, more text; the parts in three charsets, one of them lying."""
    msg = MIMEMultipart("mixed")
    _headers(msg, sender=sender, to="support@tessera.localhost", subject="Two screenshots", extra=None)
    msg.attach(MIMEText("First: the login page.", "plain", "utf-8"))
    image = MIMEBase("image", "png")
    image.set_payload(PNG)
    from email import encoders

    encoders.encode_base64(image)
    image.add_header("Content-Disposition", "inline", filename="login.png")
    msg.attach(image)
    msg.attach(MIMEText("Druga część: błąd łódź.", "plain", "iso-8859-2"))
    lying = MIMEText("", "plain", "utf-8")
    lying.set_payload("Third: caf\xe9 cr\xe8me.".encode("latin-1"))
    lying.replace_header("Content-Transfer-Encoding", "8bit")
    msg.attach(lying)
    return msg.as_bytes()


def control_character_name(*, address: str = "evil@example.com") -> bytes:
    """An RFC 2047 display name that decodes to CR LF (a header injection try), NUL and a bell."""
    raw = plain(sender=f"Evil <{address}>", subject="Name with controls")
    return raw.replace(b"From: Evil", b"From: =?utf-8?q?Eve=0D=0ABcc=3A_victim=40example=2Ecom=00=07?=", 1)


def reused_message_id(message_id: str, *, subject: str, body: str) -> bytes:
    return plain(subject=subject, body=body, extra={"Message-ID": message_id})


def empty_attachment(*, sender: str = "carla@example.com") -> bytes:
    return (
        f"From: {sender}\r\nTo: support@tessera.localhost\r\nSubject: Empty file\r\n"
        f"Message-ID: <empty.{next(_n)}@client.example>\r\nAuthentication-Results: {AUTH_PASS}\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe file is attached.\r\n"
        '--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="scan.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n\r\n--B--\r\n"
    ).encode()


def bounce_of(original: EmailMessage, recipient: str, *, headers_only: bool = True) -> bytes:
    """A DSN that returns our email (its headers, or all of it) so the bounce is tied to its ticket."""
    returned = "".join(f"{k}: {v}\r\n" for k, v in original.items())
    kind = "text/rfc822-headers" if headers_only else "message/rfc822"
    if not headers_only:
        returned += "\r\n" + str(original.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    return (
        "From: Mail Delivery Subsystem <mailer-daemon@mx.example.com>\r\n"
        "To: support@tessera.localhost\r\nSubject: Delivery Status Notification (Failure)\r\n"
        f"Message-ID: <dsn.{next(_n)}@mx.example.com>\r\nAuto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\r\n\r\n'
        f"--R\r\nContent-Type: text/plain\r\n\r\nYour message to {recipient} could not be delivered.\r\n"
        "--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 The email account does not exist\r\n\r\n"
        f"--R\r\nContent-Type: {kind}\r\n\r\n{returned}\r\n--R--\r\n"
    ).encode()


# Quoted history as each client writes it, per language: (attribution line, "sent from" signature).
ATTRIBUTION = {
    "en": "On 2 Mar 2026, at 10:00, Support <support@tessera.localhost> wrote:",
    "it": "Il giorno 2 mar 2026, alle ore 10:00, Support <support@tessera.localhost> ha scritto:",
    "pl": "Wiadomość napisana przez Support <support@tessera.localhost> w dniu 2.03.2026, o godz. 10:00:",
    "fr": "Le 2 mars 2026 à 10:00, Support <support@tessera.localhost> a écrit :",
}
OUTLOOK_LABELS = {
    "en": ("From", "Sent", "To", "Subject"),
    "it": ("Da", "Inviato", "A", "Oggetto"),
    "pl": ("Od", "Wysłane", "Do", "Temat"),
    "fr": ("De", "Envoyé", "À", "Objet"),
}


def html_reply(original: EmailMessage, *, sender: str, body: str, client: str, language: str) -> bytes:
    """A reply with an HTML part structured the way `client` quotes (and a plain part as it writes it)."""
    import html as html_lib

    quoted_text = original.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    quoted_html = "<br>".join(html_lib.escape(line) for line in quoted_text.splitlines())
    attribution = html_lib.escape(ATTRIBUTION[language])
    quoted = "\n".join(f"> {line}" for line in quoted_text.splitlines())
    own = f"<div>{html_lib.escape(body)}</div>"
    if client == "apple":
        markup = (
            f'<html><body dir="auto">{own}<div><br><blockquote type="cite">{attribution}<br><br></blockquote>'
            f'</div><blockquote type="cite"><div dir="ltr">{quoted_html}</div></blockquote></body></html>'
        )
        text = f"{body}\n\n> {ATTRIBUTION[language]}\n> \n{quoted}\n"
    elif client == "gmail":
        markup = (
            f'<div dir="ltr">{own}</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            f'{attribution}<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
            f"{quoted_html}</blockquote></div>"
        )
        text = f"{body}\n\n{ATTRIBUTION[language]}\n\n{quoted}\n"
    elif client == "outlook":
        labels = OUTLOOK_LABELS[language]
        header = (
            f"<b>{labels[0]}:</b> Support &lt;support@tessera.localhost&gt;<br>"
            f"<b>{labels[1]}:</b> 2/3/2026<br>"
            f"<b>{labels[2]}:</b> {html_lib.escape(sender)}<br><b>{labels[3]}:</b> {original['Subject']}"
        )
        markup = (
            f'<html><body><div>{own}</div><div id="appendonsend"></div><hr style="display:inline-block">'
            f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri">{header}</font><div>&nbsp;</div></div>'
            f"<div>{quoted_html}</div></body></html>"
        )
        text = (
            f"{body}\n\n________________________________\n{labels[0]}: Support <support@tessera.localhost>\n"
            f"{labels[1]}: 2/3/2026\n{labels[2]}: {sender}\n{labels[3]}: {original['Subject']}\n\n"
            f"{quoted_text}\n"
        )
    elif client == "thunderbird":
        markup = (
            f'<html><body><p>{html_lib.escape(body)}</p><div class="moz-cite-prefix">{attribution}<br></div>'
            f'<blockquote type="cite" cite="mid:x@tessera.localhost">{quoted_html}</blockquote></body></html>'
        )
        text = f"{body}\n\n{ATTRIBUTION[language]}\n{quoted}\n"
    else:
        raise ValueError(client)
    msg = MIMEMultipart("alternative")
    reply_to = str(original.get("Reply-To") or original["From"])
    _headers(msg, sender=sender, to=reply_to, subject=f"Re: {original['Subject']}", extra=None)
    msg["In-Reply-To"] = original["Message-ID"]
    msg["References"] = f"{original.get('References', '')} {original['Message-ID']}".strip()
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(MIMEText(markup, "html", "utf-8"))
    return msg.as_bytes()


def _hostile_content() -> dict[str, bytes]:
    """Hostile or malformed messages for the content rules: each must be stored, processed and leave
    nothing out without saying so (tests/mail/test_content.py)."""
    return {
        "crlf-in-display-name": control_character_name(address="crlf@example.com"),
        "c1-controls-in-name": plain(sender="=?utf-8?b?wpvCnUpvZQ==?= <c1@example.com>", subject="C1"),
        "several-text-parts-lying-charset": several_text_parts(sender="parts@example.com"),
        "zip-archive": with_files({"logs.zip": ZIP_FORMATS["logs.zip"]}, sender="zip@example.com"),
        "docx-xlsx-odt": with_files(
            {n: ZIP_FORMATS[n] for n in ("letter.docx", "budget.xlsx", "minutes.odt")},
            sender="office@example.com",
        ),
        "jar-program": with_files({"tool.jar": ZIP_FORMATS["tool.jar"]}, sender="jar@example.com"),
        "apk-program": with_files({"app.apk": ZIP_FORMATS["app.apk"]}, sender="apk@example.com"),
        "jar-named-zip": with_files({"innocent.zip": ZIP_FORMATS["tool.jar"]}, sender="jarzip@example.com"),
        "docx-that-is-a-zip": with_files(
            {"letter.docx": ZIP_FORMATS["logs.zip"]}, sender="fakedocx@example.com"
        ),
        "exe-named-pdf": with_files({"invoice.pdf": EXE}, sender="exe@example.com"),
        "html-report-with-script": with_files({"report.html": HTML_REPORT}, sender="html@example.com"),
        "svg-with-script": with_files({"chart.svg": SVG_CHART}, sender="svg@example.com"),
        "winmail-with-files": with_winmail(
            tnef({"quote.pdf": PDF}, body="See the quote."), sender="tnef@example.com"
        ),
        "winmail-truncated": with_winmail(tnef({"quote.pdf": PDF})[:40], sender="badtnef@example.com"),
        "empty-attachment": empty_attachment(sender="empty@example.com"),
        "oversized-body": plain(sender="long@example.com", subject="Long", body="x" * 120_000),
        "path-in-file-name": with_files({"../../etc/passwd.txt": b"root:x:0:0\n"}, sender="path@example.com"),
        "auto-response-suppress-all": plain(
            sender="ars@example.com", extra={"X-Auto-Response-Suppress": "All"}
        ),
        "auto-response-suppress-oof": plain(
            sender="oof@example.com", extra={"X-Auto-Response-Suppress": "DR, RN, NRN, OOF"}
        ),
        "precedence-junk": plain(sender="junk@example.com", extra={"Precedence": "junk"}),
        "precedence-list": plain(sender="list@example.com", extra={"Precedence": "list"}),
    }


HOSTILE_CONTENT = _hostile_content()
