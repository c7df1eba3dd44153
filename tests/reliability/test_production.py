"""Production mode cannot be bypassed: every entry point refuses insecure settings as the settings load,
and production responses carry the browser-side protections."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import Client

from tessera import conf
from tessera.tickets import services
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "p" * 50


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {**os.environ, "TESSERA_PRODUCTION": "true", "TESSERA_DATA_DIR": str(tmp_path)}
    env.update(
        {"TESSERA_DEBUG": "false", "TESSERA_SECRET_KEY": GOOD_KEY, "TESSERA_ALLOWED_HOSTS": "help.example"}
    )
    env.update(values)
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


ENTRY_POINTS = {
    "wsgi": [sys.executable, "-c", "import tessera.wsgi"],
    "asgi": [sys.executable, "-c", "import tessera.asgi"],
    "manage": [sys.executable, "manage.py", "showmigrations"],
    "worker": [sys.executable, "-m", "tessera", "worker"],
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_refuses_debug_in_production(tmp_path: Path, entry: str) -> None:
    result = subprocess.run(
        ENTRY_POINTS[entry],
        cwd=ROOT,
        env=_env(tmp_path, TESSERA_DEBUG="true"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "tessera.E001" in result.stderr
    assert "refuses to start" in result.stderr


@pytest.mark.parametrize(
    ("values", "check"),
    [
        ({"debug": True}, "tessera.E001"),
        ({"secret_key": conf.DEFAULT_SECRET_KEY}, "tessera.E002"),
        ({"allowed_hosts": ["help.example", "*"]}, "tessera.E003"),
    ],
)
def test_each_insecure_setting_is_refused_by_name(values: dict[str, Any], check: str) -> None:
    secure: dict[str, Any] = {"debug": False, "secret_key": GOOD_KEY, "allowed_hosts": ["help.example"]}
    conf.refuse_insecure_production(**secure)
    with pytest.raises(ImproperlyConfigured, match=check):
        conf.refuse_insecure_production(**{**secure, **values})


def test_secure_production_settings_load_with_hsts_and_secure_cookies(tmp_path: Path) -> None:
    script = (
        "import json, tessera.wsgi; from django.conf import settings as s; print(json.dumps([s.DEBUG, "
        "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    debug, hsts, session_secure, csrf_secure = json.loads(result.stdout.strip().splitlines()[-1])
    assert debug is False and hsts >= 180 * 24 * 3600 and session_secure and csrf_secure


@pytest.mark.django_db
def test_pages_carry_a_strict_csp_whose_nonce_matches_their_scripts() -> None:
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy)
    assert script_src is not None and "'unsafe-inline'" not in script_src.group(1)
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or f'nonce="{nonce.group(1)}"' in tag, tag
    assert not re.search(r"<[^>]+\son[a-z]+=", html), "inline event handlers are blocked by the CSP"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_personal_data_is_never_cached(settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000  # as production sets it
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    attachment = services.add_attachments(
        actor=carla, ticket=ticket, files=[ContentFile(factories.PNG, name="shot.png")]
    )[0]
    client = Client()
    client.force_login(carla)
    for path in (f"/tickets/{ticket.reference}", f"/files/{attachment.pk}"):
        response = client.get(path, secure=True)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "private, no-store", path
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    api = Client().get(
        f"/api/v1/tickets/{ticket.pk}", headers={"Authorization": f"Bearer {factories.token_for(carla)}"}
    )
    assert api.status_code == 200 and api["Cache-Control"] == "private, no-store"
