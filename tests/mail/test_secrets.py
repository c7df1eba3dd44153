"""Mailbox secrets at rest: encrypted in the database, readable with any configured key, rotated by
`tessera mail rekey`, encrypted by a data migration, and never shown back in the admin."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from tessera.mail import crypto
from tessera.mail.checks import encryption_keys
from tessera.mail.inbound import imap
from tessera.mail.models import Mailbox
from tests import factories
from tests.mail.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)

OLD_KEY = "old-key-" + "o" * 40
NEW_KEY = "new-key-" + "n" * 40
SECRETS = ("imap_password", "oauth_client_secret", "oauth_refresh_token", "oauth_access_token")


def _raw(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM mail_mailbox WHERE id = %s", [pk])  # noqa: S608 - test column
        value: str = cursor.fetchone()[0]
    return value


def _mailbox(**fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "address": "support-box@tessera.localhost",
        "department": factories.department("technical"),
        "imap_host": "127.0.0.1",
        "imap_port": 1,
        "imap_security": "none",
        "imap_username": "helpdesk",
        "imap_password": "pässword-1",
        "oauth_client_secret": "client-secret-2",
        "oauth_refresh_token": "refresh-token-3",
        "oauth_access_token": "access-token-4",
    }
    values.update(fields)
    return Mailbox.objects.create(**values)


def test_secrets_are_stored_encrypted_and_read_back(settings: Any) -> None:
    settings.TESSERA_ENCRYPTION_KEYS = [OLD_KEY]
    box = _mailbox()
    for name in SECRETS:
        stored = _raw(box.pk, name)
        assert stored.startswith(crypto.PREFIX)
        assert getattr(box, name) not in stored
    again = Mailbox.objects.get(pk=box.pk)
    assert [getattr(again, n) for n in SECRETS] == [
        "pässword-1",
        "client-secret-2",
        "refresh-token-3",
        "access-token-4",
    ]
    # Each write uses a fresh IV: the same value never gives the same ciphertext twice.
    before = _raw(box.pk, "imap_password")
    again.save()
    assert _raw(box.pk, "imap_password") != before
    # Empty stays empty (nothing to hide).
    Mailbox.objects.filter(pk=box.pk).update(imap_password="")
    assert _raw(box.pk, "imap_password") == ""


def test_rotation_first_key_encrypts_all_decrypt_and_rekey_retires_the_old_key(settings: Any) -> None:
    settings.TESSERA_ENCRYPTION_KEYS = [OLD_KEY]
    box = _mailbox()
    old_ciphertext = _raw(box.pk, "imap_password")

    settings.TESSERA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Mailbox.objects.get(pk=box.pk).imap_password == "pässword-1"
    assert crypto.rekey() == (1, [])
    assert _raw(box.pk, "imap_password") != old_ciphertext

    settings.TESSERA_ENCRYPTION_KEYS = [NEW_KEY]  # the old key is gone and nothing needs it
    assert Mailbox.objects.get(pk=box.pk).oauth_refresh_token == "refresh-token-3"


def test_a_secret_no_key_reads_is_kept_and_reported_not_destroyed(settings: Any) -> None:
    settings.TESSERA_ENCRYPTION_KEYS = [OLD_KEY]
    box = _mailbox()
    ciphertext = _raw(box.pk, "imap_password")
    settings.TESSERA_ENCRYPTION_KEYS = [NEW_KEY]

    loaded = Mailbox.objects.get(pk=box.pk)
    assert crypto.is_unreadable(loaded.imap_password) and loaded.imap_password == ""
    loaded.save()  # e.g. an admin edits another field
    assert _raw(box.pk, "imap_password") == ciphertext
    assert crypto.rekey() == (1, [box.address])

    assert imap.fetch_all() == 0
    loaded.refresh_from_db()
    assert "TESSERA_ENCRYPTION_KEYS" in loaded.last_error

    settings.TESSERA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]  # the key comes back: nothing was lost
    assert Mailbox.objects.get(pk=box.pk).imap_password == "pässword-1"


def test_the_secret_key_fallback_still_reads_after_explicit_keys_are_set(settings: Any) -> None:
    settings.TESSERA_ENCRYPTION_KEYS = []
    box = _mailbox()
    settings.TESSERA_ENCRYPTION_KEYS = [NEW_KEY]
    assert Mailbox.objects.get(pk=box.pk).imap_password == "pässword-1"
    crypto.rekey()
    settings.SECRET_KEY = "another-secret-key-" + "s" * 40  # now only NEW_KEY can read it
    assert Mailbox.objects.get(pk=box.pk).imap_password == "pässword-1"


def test_rekey_command(settings: Any) -> None:
    box = _mailbox()
    before = _raw(box.pk, "oauth_refresh_token")
    env = {**subprocess_env(), "TESSERA_ENCRYPTION_KEYS": NEW_KEY, "TESSERA_SECRET_KEY": settings.SECRET_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "tessera", "mail", "rekey"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "1 mailboxes re-encrypted" in result.stdout
    assert _raw(box.pk, "oauth_refresh_token") != before
    settings.TESSERA_ENCRYPTION_KEYS = [NEW_KEY]
    settings.SECRET_KEY = "another-secret-key-" + "s" * 40
    assert Mailbox.objects.get(pk=box.pk).oauth_refresh_token == "refresh-token-3"


def test_data_migration_encrypts_plain_text_secrets_and_reverses() -> None:
    department = factories.department("technical")
    executor = MigrationExecutor(connection)
    executor.migrate([("mail", "0001_initial")])
    try:
        old_apps = executor.loader.project_state([("mail", "0001_initial")]).apps
        old_apps.get_model("mail", "Mailbox").objects.create(
            address="legacy@tessera.localhost",
            department_id=department.pk,
            imap_password="legacy-password",
            oauth_refresh_token="legacy-refresh",
        )
        pk = old_apps.get_model("mail", "Mailbox").objects.get().pk
        assert _raw(pk, "imap_password") == "legacy-password"

        executor = MigrationExecutor(connection)
        executor.migrate([("mail", "0003_encrypt_stored_secrets")])
        assert _raw(pk, "imap_password").startswith(crypto.PREFIX)
        assert "legacy-refresh" not in _raw(pk, "oauth_refresh_token")
        box = Mailbox.objects.get(pk=pk)
        assert (box.imap_password, box.oauth_refresh_token) == ("legacy-password", "legacy-refresh")

        executor = MigrationExecutor(connection)
        executor.migrate([("mail", "0001_initial")])
        assert _raw(pk, "imap_password") == "legacy-password"
        assert _raw(pk, "oauth_refresh_token") == "legacy-refresh"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _admin_client() -> Client:
    admin = factories.admin()
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _form(box: Mailbox, **changes: Any) -> dict[str, Any]:
    data = {
        "address": box.address,
        "department": box.department_id,
        "is_active": "on",
        "imap_host": box.imap_host,
        "imap_port": box.imap_port,
        "imap_security": box.imap_security,
        "imap_auth": box.imap_auth,
        "imap_username": box.imap_username,
        "imap_password": "",
        "imap_folder": box.imap_folder,
        "imap_done_folder": "",
        "oauth_token_url": "",
        "oauth_client_id": "",
        "oauth_client_secret": "",
        "oauth_refresh_token": "",
    }
    data.update(changes)
    return data


def test_admin_never_shows_a_stored_secret_and_empty_keeps_it() -> None:
    box = _mailbox()
    client = _admin_client()
    url = f"/admin/mail/mailbox/{box.pk}/change/"
    page = client.get(url).content.decode()
    for name in SECRETS:
        assert getattr(box, name) not in page
        assert _raw(box.pk, name) not in page
    assert "leave empty to keep it" in page

    response = client.post(url, _form(box, imap_username="renamed"))
    assert response.status_code == 302, response.content.decode()[:2000]
    box.refresh_from_db()
    assert (box.imap_username, box.imap_password, box.oauth_refresh_token) == (
        "renamed",
        "pässword-1",
        "refresh-token-3",
    )

    # A new refresh token replaces the old one and retires the access token issued under it.
    assert client.post(url, _form(box, oauth_refresh_token="fresh-grant")).status_code == 302
    box.refresh_from_db()
    assert (box.oauth_refresh_token, box.oauth_access_token, box.imap_password) == (
        "fresh-grant",
        "",
        "pässword-1",
    )

    assert client.post(url, _form(box, forget_secrets="on")).status_code == 302
    box.refresh_from_db()
    assert [getattr(box, n) for n in SECRETS] == ["", "", "", ""]


def test_production_checks_on_encryption_keys(settings: Any) -> None:
    settings.PRODUCTION = True
    settings.TESSERA_ENCRYPTION_KEYS = []
    assert [m.id for m in encryption_keys(None)] == ["tessera.W001"]
    settings.TESSERA_ENCRYPTION_KEYS = ["short"]
    assert [m.id for m in encryption_keys(None)] == ["tessera.E004"]
    settings.TESSERA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert encryption_keys(None) == []
    settings.PRODUCTION = False
    settings.TESSERA_ENCRYPTION_KEYS = []
    assert encryption_keys(None) == []
