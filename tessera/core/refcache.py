"""A per-process copy of small reference tables that almost every request reads (departments, priorities,
required-field rules, SLA policies).

Why: these rows change a few times a year, yet each API request used to fetch them again, one query at a
time; at hundreds of requests per second that was a large share of the work. A change saved in this
process clears the copy at once (post_save / post_delete of the watched models); other processes pick it
up within `ttl` seconds. Callers must treat what they get as read-only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

_tables: list[ReferenceTable[Any]] = []


class ReferenceTable[T]:
    def __init__(self, load: Callable[[], T], *watched: type[Model], ttl: float = 30.0) -> None:
        self._load = load
        self._ttl = ttl
        self._value: T | None = None
        self._expires = 0.0
        self._lock = threading.Lock()
        for model in watched:
            for signal in (post_save, post_delete, m2m_changed):
                signal.connect(self._on_change, sender=model, weak=False)
        _tables.append(self)

    def get(self) -> T:
        value, now = self._value, time.monotonic()
        if value is not None and now < self._expires:
            return value
        with self._lock:
            if self._value is None or time.monotonic() >= self._expires:
                self._value = self._load()
                self._expires = time.monotonic() + self._ttl
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None

    def _on_change(self, **kwargs: Any) -> None:
        self.clear()


def clear_all() -> None:
    """Forget every copy (tests call this between cases, whose rolled-back rows would otherwise linger)."""
    for table in _tables:
        table.clear()
