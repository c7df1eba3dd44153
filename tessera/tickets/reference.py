"""Priorities and required-field rules, read on every ticket request, from a per-process copy
(tessera.core.refcache): read-only."""

from __future__ import annotations

from tessera.core.refcache import ReferenceTable
from tessera.tickets.models import Priority, RequiredFields

_priorities = ReferenceTable(lambda: list(Priority.objects.order_by("rank")), Priority)
_rules = ReferenceTable(lambda: list(RequiredFields.objects.all()), RequiredFields)


def priority_by_slug(slug: str) -> Priority | None:
    return next((p for p in _priorities.get() if p.slug == slug), None)


def priority_by_id(priority_id: int) -> Priority:
    found = next((p for p in _priorities.get() if p.pk == priority_id), None)
    if found is None:  # added in another process since our copy was taken
        _priorities.clear()
        found = next(p for p in _priorities.get() if p.pk == priority_id)
    return found


def default_priority() -> Priority | None:
    return next((p for p in _priorities.get() if p.is_default), None)


def required_field_rules(department_id: int, priority_id: int) -> list[RequiredFields]:
    return [
        rule
        for rule in _rules.get()
        if rule.department_id in (None, department_id) and rule.priority_id in (None, priority_id)
    ]
