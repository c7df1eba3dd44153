"""Secrets at rest (IMAP passwords, OAuth client secrets and tokens), encrypted with Fernet.

Keys come from TESSERA_ENCRYPTION_KEYS (comma-separated): the first encrypts, all of them decrypt, so a key
is rotated by putting a new one first, running `tessera mail rekey`, then dropping the old one. Each key is
any string of at least 32 characters; HKDF turns it into a Fernet key. Without the setting the key is
derived from SECRET_KEY, which is then also kept as the last decryption key so a deployment that sets
TESSERA_ENCRYPTION_KEYS later can still read (and rekey) what it stored before.

Stored values carry a prefix, so plain text written before encryption existed is recognised (and
encrypted on the next save) instead of being mistaken for a broken token.
"""

from __future__ import annotations

import base64
import functools
import logging
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

logger = logging.getLogger("tessera.mail.crypto")
PREFIX = "enc1:"
MIN_KEY_LENGTH = 32


class Unreadable(str):
    """A stored secret none of the configured keys can decrypt. It reads as empty, and saving the row
    writes the original ciphertext back unchanged, so a missing key never destroys the secret."""

    stored: str

    def __new__(cls, stored: str) -> Unreadable:
        value = super().__new__(cls, "")
        value.stored = stored
        return value


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tessera secrets at rest v1").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


@functools.lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    return MultiFernet([_derive(key) for key in keys] + [_derive(secret_key)])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.TESSERA_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(value: str) -> str:
    if value == "":
        return ""  # nothing to hide, and "is a secret stored?" stays a cheap check
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    """The plain text of a stored value; legacy plain text is returned as it is."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        logger.error("a stored secret cannot be decrypted with the configured TESSERA_ENCRYPTION_KEYS")
        return Unreadable(stored)


def is_unreadable(value: str) -> bool:
    return isinstance(value, Unreadable)


if TYPE_CHECKING:  # the model attribute is a str (django-stubs' generic field; not subscriptable at run time)
    _TextField = models.TextField[Any, str]
else:
    _TextField = models.TextField


class EncryptedTextField(_TextField):
    """A text field stored encrypted. Not searchable or sortable: each write uses a fresh IV."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        if isinstance(value, Unreadable):
            return value.stored
        return encrypt(str(value))


def rekey() -> tuple[int, list[str]]:
    """Re-encrypt every stored mailbox secret with the first key (after a new key was put first).
    Returns how many mailboxes were rewritten and the addresses whose secrets no key could read (those
    are left as they are)."""
    from tessera.mail.models import Mailbox

    fields = ["imap_password", "oauth_client_secret", "oauth_refresh_token", "oauth_access_token"]
    rewritten, unreadable = 0, []
    for mailbox in Mailbox.objects.all():
        if any(is_unreadable(getattr(mailbox, name)) for name in fields):
            unreadable.append(mailbox.address)
        mailbox.save(update_fields=fields)  # unreadable values are written back unchanged
        rewritten += 1
    return rewritten, unreadable
