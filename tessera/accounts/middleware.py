"""Per-person language, and two-factor authentication enforced for staff."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.accounts.preferences import language_codes

# Paths an agent without TOTP can still reach: the account pages (to set it up or sign out), assets.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/language", "/health")


class UserLanguageMiddleware:
    """A signed-in person sees their saved language; LocaleMiddleware's browser guess is for first visits."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in language_codes():
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class AgentMfaMiddleware:
    """With TESSERA_AGENT_MFA_REQUIRED, agents and admins must set up an authenticator app first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.TESSERA_AGENT_MFA_REQUIRED and self._must_set_up(request):
            messages.warning(
                request, _("Your role requires two-factor authentication: set up an authenticator app.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_agent:
            return False
        if request.path.startswith(MFA_EXEMPT_PREFIXES):
            return False
        # Token-authenticated API calls carry their own credential; the browser session is what MFA guards.
        if request.path.startswith("/api/") and "Authorization" in request.headers:
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
