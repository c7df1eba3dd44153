from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tessera.demo import ensure_reference_data


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

    from tessera.core import refcache

    cache.clear()  # rate-limit counters must not leak between tests
    refcache.clear_all()  # nor rows a previous test created and rolled back


class OpenApiContract:
    """Checks every successful JSON response against the schema the OpenAPI document promises for it."""

    _document: dict[str, Any] | None = None

    @classmethod
    def check(cls, method: str, path: str, response: Any) -> None:
        if not (200 <= response.status_code < 300) or response.get("Content-Type") != "application/json":
            return
        import re

        from jsonschema import Draft202012Validator

        if cls._document is None:
            from tessera.api.urls import api

            cls._document = api.get_openapi_schema()
        document = cls._document
        route = path.split("?")[0]
        if route.endswith("/openapi.json"):
            return
        for template, operations in document["paths"].items():
            pattern = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, route) and method in operations:
                spec = operations[method]["responses"].get(str(response.status_code))
                assert spec is not None, (
                    f"{method.upper()} {template}: {response.status_code} is not documented"
                )
                schema = spec["content"]["application/json"]["schema"]
                Draft202012Validator({**schema, "components": document["components"]}).validate(
                    response.json()
                )
                return
        raise AssertionError(f"{method.upper()} {route} is not in the OpenAPI document")


class Api:
    """A JSON client for /api/v1 with a bearer token (or none); successful responses are checked against
    the OpenAPI document."""

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
        response = func(f"/api/v1{path}", **extra)
        OpenApiContract.check(method, f"/api/v1{path}", response)
        return response

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(f"/api/v1{path}", params, headers=self.headers)
        OpenApiContract.check("get", f"/api/v1{path}", response)
        return response

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("post", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("patch", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self._call("put", path, body, **kwargs)

    def delete(self, path: str) -> Any:
        response = self.client.delete(f"/api/v1{path}", headers=self.headers)
        OpenApiContract.check("delete", f"/api/v1{path}", response)
        return response

    def upload(self, path: str, files: list[tuple[str, bytes]]) -> Any:
        from django.core.files.uploadedfile import SimpleUploadedFile

        uploads = [SimpleUploadedFile(name, content) for name, content in files]
        response = self.client.post(f"/api/v1{path}", {"files": uploads}, headers=self.headers)
        OpenApiContract.check("post", f"/api/v1{path}", response)
        return response


@pytest.fixture
def api_as() -> Callable[[Any], Api]:
    from tests.factories import token_for

    def make(user: Any) -> Api:
        return Api(token_for(user) if user is not None else None)

    return make
