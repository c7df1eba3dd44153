from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from tessera.accounts.services import authenticate_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer tsr_…` with a personal API token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session, for the pages' own htmx/fetch calls; CSRF is enforced by the base class.

    Only for a signed-in session: CSRF protects what a session may do, so a request with no session
    (a script that forgot its token) is simply not authenticated here and gets the API's 401 problem,
    not a 403 "CSRF check failed" that would send its author looking in the wrong place."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None
