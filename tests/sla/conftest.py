from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tessera.core import clock

ROME = ZoneInfo("Europe/Rome")


class FrozenClock:
    """`tessera.core.clock.now` pinned to an instant the test moves by hand."""

    def __init__(self) -> None:
        self.instant = datetime(2026, 11, 16, 9, 0, tzinfo=ROME)

    def set(self, instant: datetime) -> datetime:
        self.instant = instant
        return instant

    def __call__(self) -> datetime:
        return self.instant


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    fake = FrozenClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


NowSetter = Callable[[datetime], datetime]
