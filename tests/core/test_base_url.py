"""`tessera serve` makes the links in its emails point at itself unless TESSERA_BASE_URL says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tessera.cli import default_base_url

PRINT_SETTING = (
    "import os, sys, django; from tessera.cli import default_base_url;"
    "default_base_url(sys.argv[1], int(sys.argv[2]));"
    "os.environ['DJANGO_SETTINGS_MODULE'] = 'tessera.settings'; django.setup();"
    "from django.conf import settings; print(settings.BASE_URL)"
)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 18701, "http://127.0.0.1:18701"),
        ("0.0.0.0", 18702, "http://localhost:18702"),  # noqa: S104 - an argument, nothing is bound
        ("::1", 18703, "http://[::1]:18703"),
        ("desk.example.com", 80, "http://desk.example.com:80"),
    ],
)
def test_the_base_url_follows_host_and_port(host: str, port: int, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TESSERA_BASE_URL", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(
        [sys.executable, "-c", PRINT_SETTING, host, str(port)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == expected


def test_an_explicit_base_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_BASE_URL", "https://help.example.com")
    assert default_base_url("127.0.0.1", 18704) == "https://help.example.com"
