"""IMAP fetching with imap-tools: by UID (never by sequence numbers, which shift when others expunge),
resuming after the last stored UID within the folder's UIDVALIDITY; a message is flagged seen or moved
only after it is stored. Password or XOAUTH2 login (Microsoft 365, Google Workspace) with token
refresh. A mailbox that cannot log in keeps its error on the row for admins and the health endpoint."""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
import urllib.request
from datetime import timedelta
from typing import Any

from django.db import close_old_connections
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags, U

from tessera.core import clock
from tessera.mail.inbound.store import MessageRefused, store_raw
from tessera.mail.models import Mailbox

logger = logging.getLogger("tessera.mail.imap")
IDLE_SECONDS = 60  # well under the 29 minutes after which servers may drop an idle client
TIMEOUT = 30


def connect(mailbox: Mailbox) -> Any:
    """A logged-in imap-tools client on the mailbox's folder."""
    classes = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}
    client = classes.get(mailbox.imap_security, MailBox)(
        mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT
    )
    if mailbox.imap_auth == Mailbox.Auth.XOAUTH2:
        return client.xoauth2(mailbox.imap_username, access_token(mailbox), mailbox.imap_folder)
    return client.login(mailbox.imap_username, mailbox.imap_password, mailbox.imap_folder)


def access_token(mailbox: Mailbox) -> str:
    """A valid OAuth2 access token, refreshed with the refresh token when (nearly) expired."""
    now = clock.now()
    if (
        mailbox.oauth_access_token
        and mailbox.oauth_expires_at
        and mailbox.oauth_expires_at > now + timedelta(minutes=2)
    ):
        return mailbox.oauth_access_token
    if not (mailbox.oauth_token_url and mailbox.oauth_refresh_token):
        raise PermissionError("XOAUTH2 needs a token URL and a refresh token.")
    body = urllib.parse.urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": mailbox.oauth_refresh_token,
            "client_id": mailbox.oauth_client_id,
            "client_secret": mailbox.oauth_client_secret,
        }
    ).encode()
    if not mailbox.oauth_token_url.startswith("https://") and "127.0.0.1" not in mailbox.oauth_token_url:
        raise PermissionError("The OAuth token URL must use https.")
    request = urllib.request.Request(mailbox.oauth_token_url, data=body, method="POST")  # noqa: S310 - checked above
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
        data = json.loads(response.read())
    mailbox.oauth_access_token = data["access_token"]
    mailbox.oauth_expires_at = now + timedelta(seconds=int(data.get("expires_in", 3600)))
    if data.get("refresh_token"):  # Microsoft rotates refresh tokens
        mailbox.oauth_refresh_token = data["refresh_token"]
    mailbox.save(update_fields=["oauth_access_token", "oauth_expires_at", "oauth_refresh_token"])
    return mailbox.oauth_access_token


def fetch_new(client: Any, mailbox: Mailbox) -> int:
    """Store every message after the last stored UID; returns how many were new."""
    status = client.folder.status(mailbox.imap_folder, ["UIDVALIDITY"])
    validity = int(status["UIDVALIDITY"])
    if mailbox.imap_uidvalidity != validity:
        # The folder was recreated: old UIDs mean nothing. Start over; the store recognises re-deliveries.
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=validity, imap_last_uid=0)
        mailbox.imap_uidvalidity, mailbox.imap_last_uid = validity, 0
    last = mailbox.imap_last_uid
    # "UID n:*" always matches the highest message, even if it is below n: filter it out.
    uids = sorted(int(u) for u in client.uids(AND(uid=U(str(last + 1), "*"))) if int(u) > last)
    stored = 0
    for uid in uids:
        typ, data = client.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        raw = next((item[1] for item in data or [] if isinstance(item, tuple)), None)
        if typ != "OK" or raw is None:
            raise OSError(f"The server did not return message UID {uid}.")
        try:
            _row, created = store_raw(bytes(raw), source="imap", mailbox=mailbox)
            stored += int(created)
        except MessageRefused as error:
            # Left in the mailbox for a person to look at; it must not block the messages behind it.
            Mailbox.objects.filter(pk=mailbox.pk).update(
                last_error=f"UID {uid}: {error.reason}", last_error_at=clock.now()
            )
        Mailbox.objects.filter(pk=mailbox.pk, imap_last_uid__lt=uid).update(imap_last_uid=uid)
        mailbox.imap_last_uid = uid
        if mailbox.imap_done_folder:
            client.move(str(uid), mailbox.imap_done_folder)
        else:
            client.flag(str(uid), MailMessageFlags.SEEN, True)
    return stored


def fetch_mailbox(mailbox: Mailbox) -> int:
    """Connect, fetch what is new, disconnect; any failure is recorded on the mailbox, never raised."""
    try:
        with connect(mailbox) as client:
            stored = fetch_new(client, mailbox)
    except Exception as error:
        _record_error(mailbox, error)
        return 0
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_checked_at=clock.now(), last_error="", last_error_at=None
    )
    return stored


def _record_error(mailbox: Mailbox, error: Exception) -> None:
    logger.warning("mailbox %s: %s", mailbox.address, error)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_error=f"{type(error).__name__}: {error}"[:2000],
        last_error_at=clock.now(),
        last_checked_at=clock.now(),
    )


def fetch_all() -> int:
    return sum(fetch_mailbox(m) for m in Mailbox.objects.filter(is_active=True) if m.fetches)


def idle_mailbox(pk: int, stopping: threading.Event) -> None:
    """Keep one mailbox connected: fetch, then wait in IDLE (or poll if the server lacks it), repeat."""
    while not stopping.is_set():
        close_old_connections()
        mailbox = Mailbox.objects.filter(pk=pk, is_active=True).first()
        if mailbox is None or not mailbox.fetches:
            return
        try:
            with connect(mailbox) as client:
                has_idle = "IDLE" in tuple(client.client.capabilities)
                while not stopping.is_set():
                    fetch_new(client, mailbox)
                    Mailbox.objects.filter(pk=pk).update(last_checked_at=clock.now(), last_error="")
                    if has_idle:
                        client.idle.wait(timeout=IDLE_SECONDS)
                    else:
                        stopping.wait(IDLE_SECONDS)
        except Exception as error:
            _record_error(mailbox, error)
            stopping.wait(30)  # back off before reconnecting


def idle_loop(stopping: threading.Event) -> None:
    threads = [
        threading.Thread(target=idle_mailbox, args=(m.pk, stopping), name=f"imap-{m.pk}", daemon=True)
        for m in Mailbox.objects.filter(is_active=True)
        if m.fetches
    ]
    for thread in threads:
        thread.start()
    stopping.wait()


def mailbox_problems() -> list[dict[str, str]]:
    """For the health endpoint: mailboxes whose last fetch failed."""
    return [
        {
            "mailbox": m.address,
            "error": m.last_error,
            "since": m.last_error_at.isoformat() if m.last_error_at else "",
        }
        for m in Mailbox.objects.filter(is_active=True).exclude(last_error="")
        if m.fetches
    ]
