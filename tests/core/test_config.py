from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from tessera import conf
from tessera.core.checks import production_settings

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_is_generated_from_the_variable_list() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8") == conf.configuration_markdown()


def test_production_with_debug_and_default_key_is_refused(settings: Any) -> None:
    settings.PRODUCTION = True
    settings.DEBUG = True
    settings.SECRET_KEY = conf.DEFAULT_SECRET_KEY
    settings.ALLOWED_HOSTS = ["*"]
    assert {e.id for e in production_settings(None)} == {"tessera.E001", "tessera.E002", "tessera.E003"}
    settings.DEBUG = False
    settings.SECRET_KEY = "k" * 50
    settings.ALLOWED_HOSTS = ["help.example.com"]
    assert production_settings(None) == []


def test_serve_refuses_to_start_in_production_with_insecure_settings(tmp_path: Path) -> None:
    env = {**os.environ, "TESSERA_PRODUCTION": "true", "TESSERA_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "tessera", "serve", "--port", "18999"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "tessera.E001" in result.stderr and "tessera.E002" in result.stderr
    assert not (tmp_path / "tessera.sqlite3").exists() or "Tessera is running" not in result.stdout


@pytest.mark.parametrize(
    ("name", "value", "parser"),
    [
        ("TESSERA_DEBUG", "maybe", conf.env_bool),
        ("TESSERA_MAX_ATTACHMENTS", "ten", conf.env_int),
        ("TESSERA_TIME_ZONE", "Mars/Olympus", conf.env_time_zone),
        ("TESSERA_EMAIL_URL", "http://mail", conf.env_mailer),
    ],
)
def test_bad_environment_values_are_refused_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, parser: Any
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        parser(name)


def test_secrets_can_come_from_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("TESSERA_SECRET_KEY_FILE", str(secret))
    assert conf.env_str("TESSERA_SECRET_KEY") == "from-a-file"


def test_smtp_url_becomes_a_mailer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESSERA_EMAIL_URL", "smtp+tls://user%40x:p%2Fw@mail.example.com:587")
    mailer = conf.env_mailer("TESSERA_EMAIL_URL")
    assert mailer["OPTIONS"] == {
        "host": "mail.example.com",
        "port": 587,
        "username": "user@x",
        "password": "p/w",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 20,
    }
