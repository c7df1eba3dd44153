"""Account commands: contacts, organisations, preferences, API tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from tessera.accounts.models import ApiToken, Organisation, User
from tessera.core import clock
from tessera.core.errors import NotFound, PermissionDenied, ValidationFailed
from tessera.core.text import clean_text, clean_time_zone

logger = logging.getLogger("tessera.accounts")

TOKEN_PREFIX = "tsr"  # noqa: S105 - a public marker that makes leaked tokens greppable, not a secret


def clean_email(value: str, *, field: str = "email") -> str:
    email = clean_text(value, field=field, max_length=254, required=True, single_line=True).lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(_("Enter a valid email address."), field=field) from None
    return email


def update_preferences(*, user: User, language: str, time_zone: str, full_name: str | None = None) -> User:
    """Set a person's language and time zone (and name, when given), all validated before the write; the
    client area's profile page and the account settings page both save through here."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationFailed(_("Choose English, Italian, Polish or French."), field="language")
    zone = clean_time_zone((time_zone or "").strip(), field="time_zone")
    if not zone:
        raise ValidationFailed(_("This field is required."), field="time_zone")
    user.language, user.time_zone = language, zone
    fields = ["language", "time_zone"]
    if full_name is not None:
        user.full_name = full_name.strip()[:200]
        fields.append("full_name")
    user.save(update_fields=fields)
    return user


def create_contact(
    *,
    actor: User,
    email: str,
    full_name: str = "",
    phone: str = "",
    language: str = "en",
    time_zone: str = "UTC",
    organisation: Organisation | None = None,
) -> User:
    """Create a customer contact (no password: they can claim the account by signing up)."""
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents can create contacts."))
    email = clean_email(email)
    full_name = clean_text(full_name, field="full_name", max_length=200, single_line=True)
    phone = clean_text(phone, field="phone", max_length=40, single_line=True)
    time_zone = clean_time_zone(time_zone, field="time_zone") or "UTC"
    if language not in {"en", "it", "pl", "fr"}:
        raise ValidationFailed(_("Choose English, Italian, Polish or French."), field="language")
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email,
                full_name=full_name,
                phone=phone,
                language=language,
                time_zone=time_zone,
                organisation=organisation,
            )
    except IntegrityError:
        raise ValidationFailed(
            _("A contact with this email address already exists."), field="email"
        ) from None


def create_organisation(*, actor: User, name: str) -> Organisation:
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents can create organisations."))
    name = clean_text(name, field="name", max_length=200, required=True, single_line=True)
    try:
        with transaction.atomic():
            return Organisation.objects.create(name=name)
    except IntegrityError:
        raise ValidationFailed(_("An organisation with this name already exists."), field="name") from None


def issue_api_token(*, actor: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    name = clean_text(name, field="name", max_length=100, required=True, single_line=True)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=actor, name=name, prefix=prefix, key_hash=_hash(secret))
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


def revoke_api_token(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound(_("Token not found."))
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    return token


def authenticate_token(raw: str) -> User | None:
    """The active user a presented token belongs to, or None. Constant-time comparison of the hash."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if token is None or not secrets.compare_digest(token.key_hash, _hash(parts[2])):
        return None
    user = token.user
    if not user.is_active:
        return None
    now = clock.now()
    # Touch last_used_at at most once a minute: a write per request would serialise API traffic on SQLite.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        _touch(token.pk, now)
    return user


def _touch(token_id: int, now: datetime) -> None:
    """Stamp a token's last use, never at the cost of the request it authenticates: the stamp is
    approximate, so a row another transaction holds is skipped (PostgreSQL) and a locked or read-only
    database (SQLite past its busy timeout) only costs the stamp."""
    try:
        with transaction.atomic():
            free = ApiToken.objects.filter(pk=token_id).select_for_update(skip_locked=True).values("pk")
            ApiToken.objects.filter(pk__in=free).update(last_used_at=now)
    except DatabaseError:
        logger.info("token %s: last use not recorded (database busy)", token_id, exc_info=True)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
