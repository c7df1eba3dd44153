"""`tessera serve` on a fresh data folder: migrates, loads the demo, serves the API, runs the worker."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.live


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_one_command_runs_everything_on_the_embedded_default(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "TESSERA_DATA_DIR": str(tmp_path), "TESSERA_SERVE_WORKERS": "1"}
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "tessera", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/health")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, body
        assert body["worker"]["status"] == "ok"  # type: ignore[index]
        assert (tmp_path / "tessera.sqlite3").exists()
        token = (
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tessera",
                    "manage",
                    "shell",
                    "-c",
                    "from tessera.accounts.models import User; "
                    "from tessera.accounts.services import issue_api_token;"
                    "u = User.objects.get(email='customer@example.com');"
                    "print(issue_api_token(actor=u, name='t')[1])",
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        status, page = _get(f"http://127.0.0.1:{port}/api/v1/tickets", token)
        assert status == 200
        assert {t["subject"] for t in page["items"]} >= {"Cannot reach my VPS over SSH"}  # type: ignore[union-attr]
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "customer@example.com" in output and "tessera-demo" in output
