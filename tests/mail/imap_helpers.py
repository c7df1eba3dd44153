"""Folders, messages and mailboxes on the test Dovecot, through plain imaplib (not the code under test)."""

from __future__ import annotations

import imaplib
import itertools
import time
from typing import Any

from tessera.mail.models import Mailbox
from tests import factories
from tests.mail.dovecot import PASSWORD, USER

_folders = itertools.count(1)


def new_folder(dovecot: Any) -> str:
    name = f"Box{next(_folders)}x{int(time.time() * 1000) % 100000}"
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    client.create(name)
    client.logout()
    return name


def append(dovecot: Any, folder: str, *messages: bytes) -> None:
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    for raw in messages:
        typ, _ = client.append(folder, None, None, raw)
        assert typ == "OK"
    client.logout()


def flags(dovecot: Any, folder: str) -> list[bytes]:
    """The FLAGS of every message in the folder, in UID order."""
    client = imaplib.IMAP4("127.0.0.1", dovecot.port)
    client.login(USER, PASSWORD)
    client.select(folder, readonly=True)
    _typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
    client.logout()
    return [item for item in data if isinstance(item, bytes)]


def mailbox(dovecot: Any, folder: str, **fields: Any) -> Mailbox:
    values: dict[str, Any] = {
        "address": f"{folder.lower()}@tessera.localhost",
        "department": factories.department("technical"),
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.port,
        "imap_security": "none",
        "imap_username": USER,
        "imap_password": PASSWORD,
        "imap_folder": folder,
    }
    values.update(fields)
    return Mailbox.objects.create(**values)
