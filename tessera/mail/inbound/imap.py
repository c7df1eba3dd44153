"""IMAP fetching with imap-tools: by UID (never by sequence numbers, which shift when others expunge),
resuming after the last stored UID within the folder's UIDVALIDITY; a message is flagged seen or moved
only after it is stored. Password or XOAUTH2 login (Microsoft 365, Google Workspace) with token
refresh. A mailbox that cannot log in keeps its error on the row for admins and the health endpoint.

Both the minute job and the IDLE loop (possibly in several processes) may want the same mailbox; a lease
on the row (`Lease`) lets only one of them work it at a time."""

from __future__ import annotations

import contextlib
import imaplib
import json
import logging
import os
import secrets
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import close_old_connections
from django.db.models import Q
from django.utils.translation import gettext as _
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags, U
from imap_tools.errors import MailboxLoginError

from tessera.core import clock
from tessera.mail import crypto
from tessera.mail.inbound.store import MessageRefused, store_raw
from tessera.mail.models import Mailbox

logger = logging.getLogger("tessera.mail.imap")
IDLE_SECONDS = 60  # well under the 29 minutes after which servers may drop an idle client
TIMEOUT = 30
# Long enough to cover an IDLE round (renewed each round and while fetching); short enough that a
# mailbox whose fetcher died is picked up again by the minute job soon after.
LEASE = timedelta(minutes=5)
LEASE_RETRY_SECONDS = 15
LOGIN_ERRORS = (MailboxLoginError, imaplib.IMAP4.error)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class OAuthError(PermissionError):
    """The token endpoint refused to give us an access token; the message says what an admin must do."""


# Leases ---------------------------------------------------------------------------------------------------


class Lease:
    """The right to fetch one mailbox, held by one fetcher at a time through a conditional UPDATE of the
    row (so it works across processes and hosts). A holder renews it while working; if its process dies
    the lease runs out after LEASE and the next fetcher takes over."""

    def __init__(self, pk: int) -> None:
        self.pk = pk
        self.owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.renewed_at: Any = None

    def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours (which renews it)."""
        now = clock.now()
        taken = (
            Mailbox.objects.filter(pk=self.pk)
            .filter(
                Q(fetch_lease_owner=self.owner)
                | Q(fetch_lease_until__isnull=True)
                | Q(fetch_lease_until__lt=now)
            )
            .update(fetch_lease_owner=self.owner, fetch_lease_until=now + LEASE)
        )
        self.renewed_at = now if taken else None
        return bool(taken)

    def renew(self) -> bool:
        """Extend a lease we hold; False if another fetcher has taken it over (ours had run out)."""
        now = clock.now()
        kept = Mailbox.objects.filter(pk=self.pk, fetch_lease_owner=self.owner).update(
            fetch_lease_until=now + LEASE
        )
        self.renewed_at = now if kept else None
        return bool(kept)

    def keep(self) -> bool:
        """Called between messages: renews when a third of the lease has gone by."""
        if self.renewed_at is not None and clock.now() - self.renewed_at < LEASE / 3:
            return True
        return self.renew()

    def release(self) -> None:
        Mailbox.objects.filter(pk=self.pk, fetch_lease_owner=self.owner).update(
            fetch_lease_owner="", fetch_lease_until=None
        )
        self.renewed_at = None


# Login ----------------------------------------------------------------------------------------------------


def connect(mailbox: Mailbox) -> Any:
    """A logged-in imap-tools client on the mailbox's folder."""
    if mailbox.imap_auth == Mailbox.Auth.XOAUTH2:
        cached = _token_is_fresh(mailbox)

        def xoauth2(client: Any, force: bool = False) -> Any:
            token = access_token(mailbox, force=force)
            return client.xoauth2(mailbox.imap_username, token, mailbox.imap_folder)

        try:
            return _login(mailbox, xoauth2)
        except LOGIN_ERRORS:
            if not cached:
                raise
            # The server refused a token that had not expired yet (revoked, or ended early by the
            # provider): get a fresh one with the refresh token and try once more.
            logger.info("mailbox %s: access token refused, refreshing", mailbox.address)
            return _login(mailbox, lambda client: xoauth2(client, force=True))
    if crypto.is_unreadable(mailbox.imap_password):
        raise PermissionError(_unreadable())
    return _login(
        mailbox,
        lambda client: client.login(mailbox.imap_username, mailbox.imap_password, mailbox.imap_folder),
    )


def _login(mailbox: Mailbox, login: Callable[[Any], Any]) -> Any:
    classes = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}
    client = classes.get(mailbox.imap_security, MailBox)(
        mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT
    )
    try:
        return login(client)
    except BaseException:
        with contextlib.suppress(OSError):  # a refused login must not leave the socket open
            client.client.shutdown()
        raise


def _unreadable() -> str:
    return _(
        "A stored secret of this mailbox cannot be decrypted with the configured TESSERA_ENCRYPTION_KEYS; "
        "add the key it was stored with, or enter the secret again."
    )


def _token_is_fresh(mailbox: Mailbox) -> bool:
    return bool(
        mailbox.oauth_access_token
        and mailbox.oauth_expires_at
        and mailbox.oauth_expires_at > clock.now() + timedelta(minutes=2)
    )


def access_token(mailbox: Mailbox, *, force: bool = False) -> str:
    """A valid OAuth2 access token: the stored one while it lasts, else a new one from the token endpoint
    with the refresh token (RFC 6749 section 6), stored together with a rotated refresh token if the
    server sends one (Microsoft rotates them)."""
    if not force and _token_is_fresh(mailbox):
        return str(mailbox.oauth_access_token)
    if crypto.is_unreadable(mailbox.oauth_refresh_token) or crypto.is_unreadable(mailbox.oauth_client_secret):
        raise OAuthError(_unreadable())
    if not (mailbox.oauth_token_url and mailbox.oauth_refresh_token):
        raise OAuthError(_("XOAUTH2 needs a token URL and a refresh token."))
    now = clock.now()
    data = _token_request(
        mailbox.oauth_token_url,
        {
            "grant_type": "refresh_token",
            "refresh_token": mailbox.oauth_refresh_token,
            "client_id": mailbox.oauth_client_id,
            "client_secret": mailbox.oauth_client_secret,
        },
    )
    token = str(data["access_token"])
    mailbox.oauth_access_token = token
    try:
        lifetime = int(data.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600
    mailbox.oauth_expires_at = now + timedelta(seconds=lifetime)
    if data.get("refresh_token"):
        mailbox.oauth_refresh_token = str(data["refresh_token"])
    mailbox.save(update_fields=["oauth_access_token", "oauth_expires_at", "oauth_refresh_token"])
    return token


def _token_request(url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST to the token endpoint; an error answer (RFC 6749 section 5.2) becomes an OAuthError that tells
    the admin what to do."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise OAuthError(_("The OAuth token URL must use https."))
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
        headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            data = json.loads(response.read())
    except urllib.error.HTTPError as error:
        code, description = _oauth_error(error)
        if code in {"invalid_grant", "invalid_client", "unauthorized_client"}:
            raise OAuthError(
                _(
                    "The OAuth server refused the refresh token (%(code)s: %(description)s). Sign in to the "
                    "provider again and store a new refresh token (and check the client id and secret)."
                )
                % {"code": code, "description": description or "-"}
            ) from None
        raise OAuthError(
            _("The OAuth token endpoint answered HTTP %(status)s (%(code)s: %(description)s).")
            % {"status": error.code, "code": code or "-", "description": description or "-"}
        ) from None
    except ValueError:
        raise OAuthError(_("The OAuth token endpoint did not answer with JSON.")) from None
    if not isinstance(data, dict) or not data.get("access_token"):
        raise OAuthError(_("The OAuth token endpoint's answer has no access token."))
    return data


def _oauth_error(error: urllib.error.HTTPError) -> tuple[str, str]:
    try:
        body = json.loads(error.read())
    except (ValueError, OSError):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error", ""))[:100], str(body.get("error_description", ""))[:300]


# Fetching -------------------------------------------------------------------------------------------------


def fetch_new(client: Any, mailbox: Mailbox, lease: Lease | None = None) -> tuple[int, str]:
    """Store every message after the last stored UID. Returns how many were new and a problem to show
    (a message the store refused), or stops early, quietly, if the lease was lost to another fetcher."""
    status = client.folder.status(mailbox.imap_folder, ["UIDVALIDITY"])
    validity = int(status["UIDVALIDITY"])
    if mailbox.imap_uidvalidity != validity:
        # The folder was recreated: old UIDs mean nothing. Start over; the store recognises re-deliveries.
        Mailbox.objects.filter(pk=mailbox.pk).update(imap_uidvalidity=validity, imap_last_uid=0)
        mailbox.imap_uidvalidity, mailbox.imap_last_uid = validity, 0
    last = mailbox.imap_last_uid
    # "UID n:*" always matches the highest message, even if it is below n: filter it out.
    uids = sorted(int(u) for u in client.uids(AND(uid=U(str(last + 1), "*"))) if int(u) > last)
    stored, problem = 0, ""
    for uid in uids:
        if lease is not None and not lease.keep():
            logger.info("mailbox %s: another fetcher took over", mailbox.address)
            break
        typ, data = client.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        raw = next((item[1] for item in data or [] if isinstance(item, tuple)), None)
        if typ != "OK" or raw is None:
            raise OSError(f"The server did not return message UID {uid}.")
        try:
            _row, created = store_raw(bytes(raw), source="imap", mailbox=mailbox)
            stored += int(created)
        except MessageRefused as error:
            # Left in the mailbox for a person to look at; it must not block the messages behind it.
            problem = f"UID {uid}: {error.reason}"
            Mailbox.objects.filter(pk=mailbox.pk).update(last_error=problem, last_error_at=clock.now())
        Mailbox.objects.filter(pk=mailbox.pk, imap_last_uid__lt=uid).update(imap_last_uid=uid)
        mailbox.imap_last_uid = uid
        if mailbox.imap_done_folder:
            client.move(str(uid), mailbox.imap_done_folder)
        else:
            client.flag(str(uid), MailMessageFlags.SEEN, True)
    return stored, problem


def fetch_mailbox(mailbox: Mailbox) -> int:
    """Connect, fetch what is new, disconnect; any failure is recorded on the mailbox, never raised.
    Skipped (0) while another fetcher holds the mailbox's lease."""
    lease = Lease(mailbox.pk)
    if not lease.acquire():
        return 0
    try:
        # Read the row again under the lease: the previous holder moved the UID on, maybe refreshed tokens.
        mailbox.refresh_from_db()
        with connect(mailbox) as client:
            stored, problem = fetch_new(client, mailbox, lease)
        _checked(mailbox, problem)
    except Exception as error:
        _record_error(mailbox, error)
        return 0
    finally:
        lease.release()
    return stored


def _checked(mailbox: Mailbox, problem: str) -> None:
    fields: dict[str, Any] = {"last_checked_at": clock.now()}
    if not problem:  # a refused message's note stays until a round passes without one
        fields.update(last_error="", last_error_at=None)
    Mailbox.objects.filter(pk=mailbox.pk).update(**fields)


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
    """Keep one mailbox connected: fetch, then wait in IDLE (or poll if the server lacks it), repeat.
    The lease is held for the whole connection, so the minute job leaves this mailbox alone meanwhile."""
    lease = Lease(pk)
    while not stopping.is_set():
        close_old_connections()
        if not lease.acquire():
            stopping.wait(LEASE_RETRY_SECONDS)  # another fetcher is working it; try again soon
            continue
        failed = False
        try:
            mailbox = Mailbox.objects.filter(pk=pk, is_active=True).first()
            if mailbox is None or not mailbox.fetches:
                return
            try:
                with connect(mailbox) as client:
                    has_idle = "IDLE" in tuple(client.client.capabilities)
                    while not stopping.is_set() and lease.renew():
                        mailbox.refresh_from_db(fields=["imap_uidvalidity", "imap_last_uid"])
                        _stored, problem = fetch_new(client, mailbox, lease)
                        _checked(mailbox, problem)
                        if has_idle:
                            client.idle.wait(timeout=IDLE_SECONDS)
                        else:
                            stopping.wait(IDLE_SECONDS)
            except Exception as error:
                _record_error(mailbox, error)
                failed = True
        finally:
            lease.release()
        if failed:
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
