from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tessera.core.demo import ensure_reference_data


@pytest.fixture(autouse=True)
def _reference_data(request: pytest.FixtureRequest) -> None:
    if "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db"):
        ensure_reference_data()


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    yield
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


@pytest.fixture(autouse=True)
def _fast_tests(settings: Any) -> None:
    # Password hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from django.core.cache import cache

    cache.clear()  # rate-limit counters must not leak between tests


class Api:
    """A JSON client for /api/v1 with a bearer token (or none)."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(
        self, method: str, path: str, body: Any = None, raw: str | bytes | None = None, **kwargs: Any
    ) -> Any:
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        func: Callable[..., Any] = getattr(self.client, method)
        extra: dict[str, Any] = {"headers": self.headers}
        if data is not None:
            extra["data"] = data
            extra["content_type"] = "application/json"
        extra.update(kwargs)
        return func(f"/api/v1{path}", **extra)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("post", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("patch", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("put", path, body, **kwargs)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/api/v1{path}", headers=self.headers)

    def upload(self, path: str, files: list[tuple[str, bytes]]) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        uploads = [SimpleUploadedFile(name, content) for name, content in files]
        return self.client.post(f"/api/v1{path}", {"files": uploads}, headers=self.headers)


@pytest.fixture
def api_as() -> Callable[[Any], Api]:
    from tests.factories import token_for

    def make(user: Any) -> Api:
        return Api(token_for(user) if user is not None else None)

    return make
