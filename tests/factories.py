"""Named people and things for tests: plain functions, no magic."""

from __future__ import annotations

import itertools
from typing import Any

from tessera.accounts.models import Department, Membership, Organisation, User
from tessera.accounts.services import issue_api_token
from tessera.demo import ensure_reference_data
from tessera.tickets import services
from tessera.tickets.models import Priority, Ticket

_counter = itertools.count(1)

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(30)


def department(slug: str) -> Department:
    ensure_reference_data()
    return Department.objects.get(slug=slug)


def priority(slug: str) -> Priority:
    ensure_reference_data()
    return Priority.objects.get(slug=slug)


def organisation(name: str = "ACME") -> Organisation:
    return Organisation.objects.get_or_create(name=name)[0]


def customer(
    name: str = "customer", *, org: Organisation | None = None, manager: bool = False, language: str = "en"
) -> User:
    return User.objects.create_user(
        f"{name}-{next(_counter)}@example.com",
        "pw-123456789",
        full_name=name.title(),
        organisation=org,
        is_org_manager=manager,
        language=language,
        is_verified=True,
    )


def agent(
    dept: str | None = "technical",
    *,
    languages: list[str] | None = None,
    name: str = "agent",
    lead: bool = False,
) -> User:
    user = User.objects.create_user(
        f"{name}-{next(_counter)}@tessera.test",
        "pw-123456789",
        full_name=name.title(),
        role=User.Role.AGENT,
        languages_spoken=languages or ["en"],
    )
    if dept:
        Membership.objects.create(department=department(dept), agent=user, is_lead=lead)
    return user


def admin() -> User:
    return User.objects.create_user(
        f"admin-{next(_counter)}@tessera.test", "pw-123456789", role=User.Role.ADMIN
    )


def token_for(user: User) -> str:
    return issue_api_token(actor=user, name="test")[1]


def ticket(
    requester: User,
    *,
    dept: str = "technical",
    prio: str = "medium",
    actor: User | None = None,
    **fields: Any,
) -> Ticket:
    details = fields.pop("details", None)
    return services.create_ticket(
        actor=actor or requester,
        data=services.NewTicket(
            subject=fields.pop("subject", "Printer on fire"),
            description=fields.pop("description", "It smokes."),
            department=department(dept),
            requester=requester if actor else None,
            priority=priority(prio),
            details=services.IncidentDetails(**(details or {})),
            **fields,
        ),
    )
