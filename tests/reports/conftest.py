from __future__ import annotations

from tests.sla.conftest import frozen  # noqa: F401 - the SLA tests' pinned clock, which the reports' history needs
