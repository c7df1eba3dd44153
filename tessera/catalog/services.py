"""Customer service commands: create, update, import from CSV, and the check the ticket form relies on.

Everything is validated before the first write; an import with one bad row writes nothing."""

from __future__ import annotations

import csv
import io
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tessera.accounts.models import Organisation, User
from tessera.catalog.models import CustomerService
from tessera.catalog.queries import services_for
from tessera.core import clock
from tessera.core.errors import PermissionDenied, ValidationFailed
from tessera.core.text import clean_text
from tessera.status.models import Component

NAME_MAX = 200
ORDER_MAX = 64
MAX_IPS = 64
IMPORT_MAX_ROWS = 50_000
IMPORT_MAX_BYTES = 20 * 1024 * 1024
CSV_COLUMNS = (
    "customer_email",
    "organisation",
    "name",
    "order_number",
    "ip_addresses",
    "component",
    "active",
)
REQUIRED_COLUMNS = ("name",)


@dataclass
class ServiceData:
    name: str
    user: User | None = None
    organisation: Organisation | None = None
    order_number: str = ""
    ip_addresses: list[str] = field(default_factory=list)
    component: Component | None = None
    is_active: bool = True


@dataclass
class RowError:
    row: int  # the line number in the file, header = 1, so people can find it in a spreadsheet
    field: str
    message: str


class ImportFailed(ValidationFailed):
    """The CSV had bad rows; nothing was imported. `errors` names each one."""

    def __init__(self, errors: list[RowError]) -> None:
        first = errors[0]
        count = len({e.row for e in errors})
        super().__init__(
            ngettext(
                "%(count)d row has errors; nothing was imported. Row %(row)d, %(field)s: %(message)s",
                "%(count)d rows have errors; nothing was imported. Row %(row)d, %(field)s: %(message)s",
                count,
            )
            % {
                "count": count,
                "row": first.row,
                "field": first.field,
                "message": first.message,
            },
            field="file",
        )
        self.errors = errors


@dataclass
class ImportResult:
    created: int
    updated: int


def check_service_for(requester: User, service_id: int) -> CustomerService:
    """The requester's own (or organisation's) active service with this id; ValidationFailed otherwise.
    create_ticket calls it so a ticket can only name a service its requester holds."""
    service = services_for(requester).filter(pk=service_id).first()
    if service is None:
        raise ValidationFailed(_("Choose one of your services."), field="customer_service")
    return service


def clean_ip_addresses(values: list[str] | str, *, field: str = "ip_addresses") -> list[str]:
    """Each an IPv4/IPv6 address or network in canonical form, without duplicates."""
    if isinstance(values, str):
        values = values.replace(",", " ").replace(";", " ").split()
    if len(values) > MAX_IPS:
        raise ValidationFailed(
            ngettext("At most %(max)d IP address.", "At most %(max)d IP addresses.", MAX_IPS)
            % {"max": MAX_IPS},
            field=field,
        )
    cleaned: list[str] = []
    for raw in values:
        value = str(raw).strip()
        if not value:
            continue
        try:
            text = (
                str(ipaddress.ip_network(value, strict=False))
                if "/" in value
                else str(ipaddress.ip_address(value))
            )
        except ValueError:
            raise ValidationFailed(
                _("“%(value)s” is not an IP address.") % {"value": value[:64]}, field=field
            ) from None
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def _check_manager(actor: User) -> None:
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents and administrators can manage customer services."))


def _clean(data: ServiceData) -> dict[str, Any]:
    if data.user is None and data.organisation is None:
        raise ValidationFailed(_("Name the customer or their organisation."), field="customer")
    if data.user is not None:
        if data.user.is_agent:
            raise ValidationFailed(_("Services belong to customers, not to agents."), field="customer")
        if data.organisation is not None and data.user.organisation_id != data.organisation.pk:
            raise ValidationFailed(
                _("%(email)s is not a member of %(organisation)s.")
                % {"email": data.user.email, "organisation": data.organisation.name},
                field="organisation",
            )
    return {
        "user": data.user,
        "organisation": data.organisation,
        "name": clean_text(data.name, field="name", max_length=NAME_MAX, required=True, single_line=True),
        "order_number": clean_text(
            data.order_number, field="order_number", max_length=ORDER_MAX, single_line=True
        ),
        "ip_addresses": clean_ip_addresses(data.ip_addresses),
        "component": data.component,
        "is_active": data.is_active,
    }


def create_service(*, actor: User, data: ServiceData) -> CustomerService:
    """Record a customer's service."""
    _check_manager(actor)
    values = _clean(data)
    now = clock.now()
    return CustomerService.objects.create(**values, created_at=now, updated_at=now)


def update_service(*, actor: User, service: CustomerService, changes: dict[str, Any]) -> CustomerService:
    """Change some fields of a service; keys are ServiceData's fields."""
    _check_manager(actor)
    unknown = set(changes) - set(ServiceData.__dataclass_fields__)
    if unknown:
        raise ValidationFailed(_("Unknown field."), field=sorted(unknown)[0])
    current = ServiceData(
        name=service.name,
        user=service.user,
        organisation=service.organisation,
        order_number=service.order_number,
        ip_addresses=list(service.ip_addresses),
        component=service.component,
        is_active=service.is_active,
    )
    for key, value in changes.items():
        setattr(current, key, value)
    values = _clean(current)
    for key, value in values.items():
        setattr(service, key, value)
    service.updated_at = clock.now()
    service.save(update_fields=[*values, "updated_at"])
    return service


# --------------------------------------------------------------------------------------------------
# CSV import
# --------------------------------------------------------------------------------------------------


def component_label(component: Component) -> str:
    """How a component is named in a CSV file: "Group / Component"."""
    return f"{component.group.name} / {component.name}"


def import_services_csv(*, actor: User, data: bytes | str) -> ImportResult:
    """Create or update (matched by order number) one service per row, all in one transaction; any bad
    row raises ImportFailed naming every bad row, and nothing is written. Values are stored as given
    (formula-looking text is neutralised on export, not here); customers, components, IPs are checked."""
    _check_manager(actor)
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
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if not header or missing:
        raise ValidationFailed(
            _("The first line must name the columns: %(columns)s.") % {"columns": ", ".join(CSV_COLUMNS)},
            field="file",
        )
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ValidationFailed(
            _("Unknown column “%(column)s”; the columns are: %(columns)s.")
            % {"column": unknown[0][:50], "columns": ", ".join(CSV_COLUMNS)},
            field="file",
        )
    reader.fieldnames = header

    components = {component_label(c).casefold(): c for c in Component.objects.select_related("group")}
    rows: list[tuple[int, dict[str, str]]] = []
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
            if None in record:  # more cells than columns
                rows.append((reader.line_num, {"__extra__": "1"}))
                continue
            values = {k: (v or "") for k, v in record.items()}
            if any(values.values()):
                rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise ValidationFailed(
            _("Line %(row)d is not valid CSV: %(error)s") % {"row": reader.line_num, "error": str(exc)[:200]},
            field="file",
        ) from None
    if not rows:
        raise ValidationFailed(_("The file has no rows to import."), field="file")

    emails = {r["customer_email"].strip().lower() for _n, r in rows if r.get("customer_email", "").strip()}
    users = {u.email: u for u in User.objects.filter(email__in=emails)}
    names = {r["organisation"].strip() for _n, r in rows if r.get("organisation", "").strip()}
    organisations = {o.name.casefold(): o for o in Organisation.objects.filter(name__in=names)}
    orders = {r["order_number"].strip() for _n, r in rows if r.get("order_number", "").strip()}
    existing = {s.order_number: s for s in CustomerService.objects.filter(order_number__in=orders)}

    errors: list[RowError] = []
    planned: list[tuple[CustomerService | None, dict[str, Any]]] = []
    seen_orders: dict[str, int] = {}
    for number, row in rows:
        if "__extra__" in row:
            errors.append(RowError(number, "file", _("This row has more cells than there are columns.")))
            continue
        row_errors: list[RowError] = []

        def fail(
            field: str, message: str, number: int = number, row_errors: list[RowError] = row_errors
        ) -> None:
            row_errors.append(RowError(number, field, message))

        email = row.get("customer_email", "").strip().lower()
        user = users.get(email) if email else None
        if email and user is None:
            fail("customer_email", _("No customer with the address “%(email)s”.") % {"email": email[:254]})
        org_name = row.get("organisation", "").strip()
        organisation = organisations.get(org_name.casefold()) if org_name else None
        if org_name and organisation is None:
            fail("organisation", _("No organisation named “%(name)s”.") % {"name": org_name[:200]})
        label = row.get("component", "").strip()
        component = (
            components.get(" / ".join(p.strip() for p in label.split("/")).casefold()) if label else None
        )
        if label and component is None:
            fail("component", _("No status page component “%(name)s”.") % {"name": label[:200]})
        active_text = row.get("active", "").strip().lower()
        if active_text not in {"", "1", "0", "yes", "no", "true", "false", "y", "n"}:
            fail("active", _("Write yes or no."))
        order = row.get("order_number", "").strip()
        if order and order in seen_orders:
            fail(
                "order_number",
                _("Order number %(order)s is also on row %(row)d.")
                % {"order": order[:64], "row": seen_orders[order]},
            )
        elif order:
            seen_orders[order] = number
        if not row_errors:
            try:
                values = _clean(
                    ServiceData(
                        name=row.get("name", ""),
                        user=user,
                        organisation=organisation,
                        order_number=order,
                        ip_addresses=row.get("ip_addresses", ""),  # type: ignore[arg-type]
                        component=component,
                        is_active=active_text not in {"0", "no", "false", "n"},
                    )
                )
            except ValidationFailed as exc:
                fail(exc.field or "row", str(exc.message))
            else:
                planned.append((existing.get(order) if order else None, values))
        errors.extend(row_errors)
    if errors:
        raise ImportFailed(errors)

    now = clock.now()
    created = updated = 0
    with transaction.atomic():
        new: list[CustomerService] = []
        for service, values in planned:
            if service is None:
                new.append(CustomerService(**values, created_at=now, updated_at=now))
                continue
            for key, value in values.items():
                setattr(service, key, value)
            service.updated_at = now
            service.save(update_fields=[*values, "updated_at"])
            updated += 1
        CustomerService.objects.bulk_create(new, batch_size=1000)
        created = len(new)
    return ImportResult(created=created, updated=updated)
