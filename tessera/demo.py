"""Demo data: the seeds' departments, priorities and required fields, and named people to sign in as.
Project-level, because it spans the apps: each app's own presets live in its demo.py."""

from __future__ import annotations

from django.db import transaction

from tessera.accounts.models import Department, Membership, Organisation, User
from tessera.mail.demo import load_mail_demo
from tessera.sla.demo import ensure_sla_reference_data
from tessera.status.demo import load_status_demo
from tessera.tickets import services
from tessera.tickets.models import Channel, Priority, RequiredFields

DEMO_PASSWORD = "tessera-demo"  # noqa: S105 - printed to the operator on purpose; demo data only
DEMO_LOGINS = (
    ("admin@tessera.localhost", "Ada Admin", User.Role.ADMIN),
    ("agent@tessera.localhost", "Tomasz Technical", User.Role.AGENT),
    ("billing@tessera.localhost", "Francesca Finance", User.Role.AGENT),
    ("abuse@tessera.localhost", "Amélie Abuse", User.Role.AGENT),
    ("customer@example.com", "Carla Customer", User.Role.CUSTOMER),
    ("manager@example.com", "Marek Manager", User.Role.CUSTOMER),
)


def ensure_reference_data() -> None:
    """Priorities and departments every installation starts with (idempotent)."""
    for rank, (slug, name, color, default) in enumerate(
        (
            ("low", "Low", "#64748b", False),
            ("medium", "Medium", "#0ea5e9", True),
            ("high", "High", "#f59e0b", False),
            ("critical", "Critical", "#dc2626", False),
        ),
        start=1,
    ):
        Priority.objects.get_or_create(
            slug=slug, defaults={"name": name, "rank": rank * 10, "color": color, "is_default": default}
        )
    for slug, name, email in (
        ("technical", "Technical", "support@tessera.localhost"),
        ("billing", "Financial/Billing", "billing@tessera.localhost"),
        ("abuse", "Abuse", "abuse@tessera.localhost"),
    ):
        Department.objects.get_or_create(
            slug=slug, defaults={"name": name, "email": email, "auto_assign": True}
        )
    technical = Department.objects.get(slug="technical")
    critical = Priority.objects.get(slug="critical")
    RequiredFields.objects.get_or_create(
        department=technical,
        priority=critical,
        defaults={"fields": ["affected_service", "problem_started_at", "ip_or_order"]},
    )
    ensure_sla_reference_data()  # after the priorities, which the SLA presets name


@transaction.atomic
def load_demo() -> bool:
    """Create the demo people and a few tickets; returns False if they already exist."""
    ensure_reference_data()
    if User.objects.filter(email=DEMO_LOGINS[0][0]).exists():
        return False
    acme = Organisation.objects.create(name="ACME S.p.A.")
    people = {}
    for email, name, role in DEMO_LOGINS:
        people[email] = User.objects.create_user(
            email,
            DEMO_PASSWORD,
            full_name=name,
            role=role,
            is_superuser=role == User.Role.ADMIN,
            is_verified=True,
            time_zone="Europe/Rome",
            organisation=acme if role == User.Role.CUSTOMER else None,
            is_org_manager=email.startswith("manager"),
            language="it" if email.startswith("customer") else "en",
            languages_spoken=["en", "it", "pl", "fr"] if role != User.Role.CUSTOMER else [],
        )
    _verify_emails(list(people.values()))
    for email, slug in (
        ("agent@tessera.localhost", "technical"),
        ("billing@tessera.localhost", "billing"),
        ("abuse@tessera.localhost", "abuse"),
    ):
        Membership.objects.create(
            department=Department.objects.get(slug=slug), agent=people[email], is_lead=True
        )
    customer = people["customer@example.com"]
    services.create_ticket(
        actor=customer,
        data=services.NewTicket(
            subject="Cannot reach my VPS over SSH",
            department=Department.objects.get(slug="technical"),
            description="Since this morning ssh times out. The web site on the same server still works.",
            channel=Channel.WEB,
            priority=Priority.objects.get(slug="high"),
            details=services.IncidentDetails(
                affected_service="VPS Milano 2",
                server_ip="203.0.113.10",
                frequency="constant",
                location="office",
            ),
        ),
    )
    services.create_ticket(
        actor=people["manager@example.com"],
        data=services.NewTicket(
            subject="Invoice 2026/118 shows the wrong VAT number",
            department=Department.objects.get(slug="billing"),
            description="Our VAT number is IT01234567890; the invoice shows an old one.",
            requester=customer,
        ),
    )
    load_status_demo(people["admin@tessera.localhost"], customer)  # components, incidents, their services
    load_mail_demo()  # support@/billing@/abuse@ mailboxes
    return True


def _verify_emails(users: list[User]) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users]
    )
