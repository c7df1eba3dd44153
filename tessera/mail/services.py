"""Setting up the email channel without a shell, for admins (admin pages and API call these): verified
contacts one by one or from a CSV file (previewed, all or nothing), receiving addresses routed to
departments, and the receiving servers whose authentication results are trusted."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tessera.accounts.models import Department, Organisation, User
from tessera.accounts.services import clean_email
from tessera.catalog.services import ImportFailed, RowError
from tessera.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from tessera.core.text import clean_text, clean_time_zone
from tessera.mail.models import Mailbox, TrustedMailServer

CONTACT_COLUMNS = ("email", "full_name", "phone", "language", "time_zone", "organisation")
LANGUAGES = ("en", "it", "pl", "fr")
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_ROWS = 5000
# An authserv-id is a domain-like token (RFC 8601 §2.5); nothing else is accepted.
AUTHSERV_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")


def check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators can set up the email channel."))


# Verified contacts ---------------------------------------------------------------------------------------


@dataclass
class ContactRow:
    """One contact as checked, before anything is written: `action` is "create" or "update"."""

    line: int
    email: str
    full_name: str = ""
    phone: str = ""
    language: str = ""
    time_zone: str = ""
    organisation: str = ""
    action: str = "create"
    new_organisation: bool = False
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ContactPreview:
    rows: list[ContactRow]

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    @property
    def created(self) -> int:
        return sum(1 for row in self.rows if row.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for row in self.rows if row.action == "update")


def preview_contacts_csv(*, actor: User, data: bytes | str) -> ContactPreview:
    """Read and check every row of a contacts CSV without writing anything. Raises ValidationFailed for a
    file that cannot be read at all; row problems are on the rows."""
    check_admin(actor)
    return _check_rows(actor, _read_csv(data))


def import_contacts_csv(*, actor: User, data: bytes | str) -> ContactPreview:
    """Register every contact of the file as verified (new ones created, existing customers updated and
    marked verified), in one transaction; if any row is bad, ImportFailed names each bad row and nothing
    is written."""
    preview = preview_contacts_csv(actor=actor, data=data)
    if preview.errors:
        raise ImportFailed(preview.errors)
    with transaction.atomic():
        organisations: dict[str, Organisation] = {}
        for row in preview.rows:
            _save_contact(row, organisations)
    return preview


def register_contact(
    *,
    actor: User,
    email: str,
    full_name: str = "",
    phone: str = "",
    language: str = "",
    time_zone: str = "",
    organisation: str = "",
) -> tuple[User, bool]:
    """Register one verified contact (the API's and the admin's single form): created, or an existing
    customer updated and marked verified. Returns (contact, created)."""
    check_admin(actor)
    row = ContactRow(
        line=1,
        email=email,
        full_name=full_name,
        phone=phone,
        language=language,
        time_zone=time_zone,
        organisation=organisation,
    )
    preview = _check_rows(actor, [row])
    if preview.errors:
        first = preview.errors[0]
        raise ValidationFailed(first.message, field=first.field)
    with transaction.atomic():
        return _save_contact(row, {}), row.action == "create"


def _read_csv(data: bytes | str) -> list[ContactRow]:
    if isinstance(data, bytes):
        if len(data) > IMPORT_MAX_BYTES:
            raise ValidationFailed(_("The file is too large."), field="file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(_("The file is not UTF-8 text."), field="file") from None
    else:
        text = data.removeprefix("\ufeff")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise ValidationFailed(
            _("The first line must name the columns: %(columns)s.") % {"columns": ", ".join(CONTACT_COLUMNS)},
            field="file",
        )
    unknown = [h for h in header if h not in CONTACT_COLUMNS]
    if unknown:
        raise ValidationFailed(
            _("Unknown column “%(column)s”; the columns are: %(columns)s.")
            % {"column": unknown[0][:50], "columns": ", ".join(CONTACT_COLUMNS)},
            field="file",
        )
    reader.fieldnames = header
    rows: list[ContactRow] = []
    try:
        for record in reader:
            if len(rows) >= IMPORT_MAX_ROWS:
                raise ValidationFailed(
                    ngettext(
                        "At most %(max)d row per file.", "At most %(max)d rows per file.", IMPORT_MAX_ROWS
                    )
                    % {"max": IMPORT_MAX_ROWS},
                    field="file",
                )
            values = {k: (v or "").strip() for k, v in record.items() if k is not None}
            row = ContactRow(
                line=reader.line_num,
                email=values.get("email", ""),
                full_name=values.get("full_name", ""),
                phone=values.get("phone", ""),
                language=values.get("language", ""),
                time_zone=values.get("time_zone", ""),
                organisation=values.get("organisation", ""),
            )
            if None in record:  # more cells than columns
                row.errors.append(
                    RowError(row.line, "file", _("This row has more cells than there are columns."))
                )
            if any(values.values()) or row.errors:
                rows.append(row)
    except csv.Error as exc:
        raise ValidationFailed(
            _("Line %(row)d is not valid CSV: %(error)s") % {"row": reader.line_num, "error": str(exc)[:200]},
            field="file",
        ) from None
    if not rows:
        raise ValidationFailed(_("The file has no rows to import."), field="file")
    return rows


def _check_rows(actor: User, rows: list[ContactRow]) -> ContactPreview:
    """Clean every row in place and note what it would do; each problem is a RowError on its row."""
    addresses = set()
    for row in rows:
        try:
            row.email = clean_email(row.email)
            addresses.add(row.email)
        except DomainError as error:
            row.errors.append(RowError(row.line, "email", str(error.message)))
    existing = {u.email: u for u in User.objects.filter(email__in=addresses)}
    names = {row.organisation.casefold() for row in rows if row.organisation}
    known_organisations = {
        o.name.casefold() for o in Organisation.objects.all() if o.name.casefold() in names
    }
    seen: dict[str, int] = {}
    for row in rows:
        for name, max_length in (("full_name", 200), ("phone", 40), ("organisation", 200)):
            try:
                value = clean_text(getattr(row, name), field=name, max_length=max_length, single_line=True)
                setattr(row, name, value)
            except DomainError as error:
                row.errors.append(RowError(row.line, name, str(error.message)))
        try:
            row.time_zone = clean_time_zone(row.time_zone, field="time_zone")
        except DomainError as error:
            row.errors.append(RowError(row.line, "time_zone", str(error.message)))
        row.language = row.language.lower()
        if row.language and row.language not in LANGUAGES:
            row.errors.append(RowError(row.line, "language", _("Write en, it, pl or fr.")))
        if not row.email or any(e.field == "email" for e in row.errors):
            continue
        if row.email in seen:
            row.errors.append(
                RowError(
                    row.line,
                    "email",
                    _("The address is already on line %(line)d of this file.") % {"line": seen[row.email]},
                )
            )
            continue
        seen[row.email] = row.line
        user = existing.get(row.email)
        if user is not None and (user.is_agent or not user.is_active):
            row.errors.append(
                RowError(
                    row.line,
                    "email",
                    _("The address belongs to a staff or deactivated account; change it on its own page."),
                )
            )
        row.action = "update" if user is not None else "create"
        row.new_organisation = (
            bool(row.organisation) and row.organisation.casefold() not in known_organisations
        )
    return ContactPreview(rows)


def _save_contact(row: ContactRow, organisations: dict[str, Organisation]) -> User:
    organisation = None
    if row.organisation:
        key = row.organisation.casefold()
        if key not in organisations:
            found = Organisation.objects.filter(name__iexact=row.organisation).first()
            organisations[key] = found or Organisation.objects.create(name=row.organisation)
        organisation = organisations[key]
    user = User.objects.filter(email=row.email).first()
    if user is None:
        user = User.objects.create_user(
            row.email,
            full_name=row.full_name,
            phone=row.phone,
            language=row.language or "en",
            time_zone=row.time_zone or "UTC",
            organisation=organisation,
            is_verified=True,
        )
    else:  # given values replace the stored ones; empty cells keep them
        for name in ("full_name", "phone", "language", "time_zone"):
            if getattr(row, name):
                setattr(user, name, getattr(row, name))
        if organisation is not None:
            user.organisation = organisation
        user.is_verified = True
        user.save()
    # The address is verified for sign-in too (allauth), as for an address the person confirmed.
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


# Receiving addresses -------------------------------------------------------------------------------------


def route_address(*, actor: User, address: str, department: Department) -> tuple[Mailbox, bool]:
    """Send mail to `address` (support@, billing@…) to `department`: a new receiving address, or the
    department of an existing one changed. Returns (mailbox, created)."""
    check_admin(actor)
    address = clean_email(address, field="address")
    if not department.is_active:
        raise ValidationFailed(_("The department is not active."), field="department_id")
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(address__iexact=address).first()
        if mailbox is None:
            try:
                with transaction.atomic():
                    return Mailbox.objects.create(address=address, department=department), True
            except IntegrityError:
                raise Conflict(_("The address was added at the same moment; try again.")) from None
        mailbox.department = department
        mailbox.save(update_fields=["department"])
        return mailbox, False


def remove_address(*, actor: User, address: str) -> None:
    """Stop receiving at an address that has no IMAP settings (an IMAP mailbox is removed on its page)."""
    check_admin(actor)
    mailbox = Mailbox.objects.filter(address__iexact=address.strip()).first()
    if mailbox is None:
        raise NotFound(_("No receiving address %(address)s.") % {"address": address[:254]})
    if mailbox.imap_host:
        raise Conflict(_("This address is fetched over IMAP; remove it on the mailbox's admin page."))
    mailbox.delete()


# Trusted receiving servers --------------------------------------------------------------------------------


def clean_authserv_id(value: str) -> str:
    authserv_id = clean_text(value, field="authserv_id", max_length=253, required=True, single_line=True)
    authserv_id = authserv_id.lower().rstrip(".")
    if not AUTHSERV_ID.match(authserv_id):
        raise ValidationFailed(
            _("Write the server's authserv-id as it appears in Authentication-Results, e.g. mx.example.com."),
            field="authserv_id",
        )
    return authserv_id


def trust_server(*, actor: User, authserv_id: str, note: str = "") -> TrustedMailServer:
    """Believe the Authentication-Results this receiving server writes."""
    check_admin(actor)
    authserv_id = clean_authserv_id(authserv_id)
    note = clean_text(note, field="note", max_length=200, single_line=True)
    try:
        with transaction.atomic():
            return TrustedMailServer.objects.create(authserv_id=authserv_id, note=note, added_by=actor)
    except IntegrityError:
        raise Conflict(
            _("%(server)s is already trusted.") % {"server": authserv_id}, field="authserv_id"
        ) from None


def distrust_server(*, actor: User, server_id: int) -> TrustedMailServer:
    check_admin(actor)
    server = TrustedMailServer.objects.filter(pk=server_id).first()
    if server is None:
        raise NotFound(_("No such trusted server."))
    server.delete()
    return server
