"""XOAUTH2 against a real Dovecot whose oauth2 passdb asks a loopback OAuth2 server (RFC 7662 introspection)
whether an access token is valid; the same server is the token endpoint that refreshes tokens (RFC 6749
section 6). Nothing is mocked between the fetcher, Dovecot and the token server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from tessera.core import clock
from tessera.mail.inbound import imap
from tessera.mail.models import InboundMessage, Mailbox
from tests.mail import corpus
from tests.mail.imap_helpers import append, flags, mailbox, new_folder
from tests.mail.oauth import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def _oauth_mailbox(dovecot: Any, oauth_server: Any, folder: str, **fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "imap_auth": Mailbox.Auth.XOAUTH2,
        "imap_password": "",
        "oauth_token_url": oauth_server.token_url,
        "oauth_client_id": CLIENT_ID,
        "oauth_client_secret": CLIENT_SECRET,
        "oauth_refresh_token": oauth_server.issue_refresh_token(),
        "oauth_access_token": "at-expired",
        "oauth_expires_at": clock.now() - timedelta(minutes=5),
    }
    values.update(fields)
    return mailbox(dovecot, folder, **values)


def _stored(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM mail_mailbox WHERE id = %s", [pk])  # noqa: S608 - test column
        value: str = cursor.fetchone()[0]
    return value


def test_expired_access_token_is_refreshed_rotated_stored_and_used(dovecot: Any, oauth_server: Any) -> None:
    folder = new_folder(dovecot)
    box = _oauth_mailbox(dovecot, oauth_server, folder)
    first_refresh = box.oauth_refresh_token
    append(dovecot, folder, corpus.plain(subject="over oauth"))

    assert imap.fetch_all() == 1

    [request] = oauth_server.token_requests
    assert request == {
        "grant_type": "refresh_token",
        "refresh_token": first_refresh,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    box.refresh_from_db()
    assert box.last_error == ""
    # The new access token is the one Dovecot was asked about, and it is stored with its lifetime.
    assert box.oauth_access_token in oauth_server.access_tokens
    assert oauth_server.introspections == [box.oauth_access_token]
    assert box.oauth_expires_at is not None and box.oauth_expires_at > clock.now() + timedelta(minutes=30)
    # The server rotated the refresh token: the old one is dead, the new one is stored (encrypted).
    assert box.oauth_refresh_token != first_refresh
    assert box.oauth_refresh_token in oauth_server.refresh_tokens
    assert box.oauth_refresh_token not in _stored(box.pk, "oauth_refresh_token")
    assert box.oauth_access_token not in _stored(box.pk, "oauth_access_token")
    assert InboundMessage.objects.get().subject == "over oauth"
    assert all(b"\\Seen" in f for f in flags(dovecot, folder))

    # The stored token is still fresh: the next round logs in without asking the token endpoint.
    append(dovecot, folder, corpus.plain(subject="second"))
    assert imap.fetch_all() == 1
    assert len(oauth_server.token_requests) == 1


def test_refresh_token_is_kept_when_the_server_does_not_rotate_it(dovecot: Any, oauth_server: Any) -> None:
    oauth_server.rotate = False
    folder = new_folder(dovecot)
    box = _oauth_mailbox(dovecot, oauth_server, folder)
    refresh = box.oauth_refresh_token
    append(dovecot, folder, corpus.plain(subject="no rotation"))
    assert imap.fetch_all() == 1
    box.refresh_from_db()
    assert box.oauth_refresh_token == refresh
    assert box.oauth_access_token in oauth_server.access_tokens


def test_a_refused_unexpired_access_token_is_refreshed_once(dovecot: Any, oauth_server: Any) -> None:
    """The provider revoked the access token before its stated expiry: Dovecot refuses it, the fetcher
    refreshes and logs in again on a new connection."""
    folder = new_folder(dovecot)
    box = _oauth_mailbox(
        dovecot,
        oauth_server,
        folder,
        oauth_access_token="at-revoked",
        oauth_expires_at=clock.now() + timedelta(hours=1),
    )
    append(dovecot, folder, corpus.plain(subject="after revocation"))
    assert imap.fetch_all() == 1
    box.refresh_from_db()
    assert len(oauth_server.token_requests) == 1
    assert oauth_server.introspections == ["at-revoked", box.oauth_access_token]
    assert box.last_error == ""
    assert InboundMessage.objects.get().subject == "after revocation"


def test_revoked_refresh_token_is_shown_to_admins_and_in_health_and_loses_nothing(
    dovecot: Any, oauth_server: Any
) -> None:
    folder = new_folder(dovecot)
    box = _oauth_mailbox(dovecot, oauth_server, folder)
    oauth_server.revoke(box.oauth_refresh_token)
    append(dovecot, folder, corpus.plain(subject="waits for a new grant"))

    assert imap.fetch_all() == 0

    box.refresh_from_db()
    assert "invalid_grant" in box.last_error and "refresh token" in box.last_error
    assert box.oauth_access_token == "at-expired"  # nothing half-written
    assert InboundMessage.objects.count() == 0
    assert [b"\\Seen" in f for f in flags(dovecot, folder)] == [False]  # still waiting on the server
    health = Client().get("/health").json()
    assert health["mailboxes"]["status"] == "error"
    [problem] = health["mailboxes"]["problems"]
    assert problem["mailbox"] == box.address and "invalid_grant" in problem["error"]

    # An admin stores a new refresh token: the next round fetches the message, once, and clears the error.
    box.oauth_refresh_token = oauth_server.issue_refresh_token()
    box.save(update_fields=["oauth_refresh_token"])
    assert imap.fetch_all() == 1
    assert imap.fetch_all() == 0
    box.refresh_from_db()
    assert box.last_error == ""
    assert Client().get("/health").json()["mailboxes"] == {"status": "ok", "problems": []}
    assert InboundMessage.objects.get().subject == "waits for a new grant"


def test_wrong_client_secret_and_plain_http_token_urls_are_refused_clearly(
    dovecot: Any, oauth_server: Any
) -> None:
    folder = new_folder(dovecot)
    box = _oauth_mailbox(dovecot, oauth_server, folder, oauth_client_secret="wrong")
    assert imap.fetch_all() == 0
    box.refresh_from_db()
    assert "invalid_client" in box.last_error

    Mailbox.objects.filter(pk=box.pk).update(oauth_token_url="http://login.example.com/token", last_error="")
    assert imap.fetch_all() == 0
    box.refresh_from_db()
    assert "https" in box.last_error
    assert len(oauth_server.token_requests) == 1  # the plain-http URL was never called
