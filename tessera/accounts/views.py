"""The one account settings page (/account/; the client area's old /profile redirects here): name, language
and time zone, notification addresses, email choices, sign-in and security, API tokens. Each POST validates,
calls one service, then redirects (or re-renders the page with the error next to its section, changing
nothing)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tessera.accounts import services as account_services
from tessera.accounts.models import User
from tessera.accounts.preferences import time_zone_names
from tessera.core.errors import DomainError, ValidationFailed
from tessera.notifications import address_services, services
from tessera.notifications.models import EmailCategory, MessageKind

CATEGORY_HELP = {
    EmailCategory.TICKET_UPDATES: gettext_lazy(
        "Status changes (opened, accepted for work, resolved, closed), priority changes, questions from "
        "support and replies. Always sent: this is how support keeps you informed."
    ),
    EmailCategory.ANNOUNCEMENTS: gettext_lazy("Incidents and planned maintenance on the services you use."),
    EmailCategory.ASSIGNMENTS: gettext_lazy("A ticket is assigned or routed to you."),
    EmailCategory.MENTIONS: gettext_lazy("Someone mentions you in an internal note."),
    EmailCategory.SLA: gettext_lazy("A ticket assigned to you nears or passes its SLA target."),
}


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    user = _user(request)
    muted = services.muted_categories(user)
    categories = [
        {
            "value": category,
            "label": EmailCategory(category).label,
            "help": CATEGORY_HELP[EmailCategory(category)],
            "locked": category in services.LOCKED_CATEGORIES,
            "enabled": category not in muted,
        }
        for category in services.categories_for(user)
    ]
    context = {
        "languages": settings.LANGUAGES,
        "time_zones": time_zone_names(),
        "addresses": address_services.address_states(user),
        "message_kinds": MessageKind.choices,
        "categories": categories,
        "tokens": user.api_tokens.filter(revoked_at__isnull=True),
        "errors": {},
        "values": {},
        **extra,
    }
    return render(request, "accounts/settings.html", context, status=status)


def _error(request: HttpRequest, section: str, error: DomainError, values: dict[str, str]) -> HttpResponse:
    return _page(
        request,
        status=error.status,
        errors={section: {"message": str(error.message), "field": error.field}},
        values=values,
    )


@login_required
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def profile(request: HttpRequest) -> HttpResponse:
    values = {"language": request.POST.get("language", ""), "time_zone": request.POST.get("time_zone", "")}
    full_name = request.POST.get("full_name")  # None (not sent) keeps the name as it is
    try:
        user = account_services.update_preferences(user=_user(request), full_name=full_name, **values)
    except DomainError as error:
        return _error(request, "profile", error, values | {"full_name": full_name or ""})
    translation.activate(user.language)
    messages.success(request, _("Your preferences were saved."))
    response = redirect("account:settings")
    # The pages follow the language cookie too (the top bar's switcher sets it), so keep both in step.
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
@require_POST
def set_address(request: HttpRequest) -> HttpResponse:
    values = {"kind": request.POST.get("kind", ""), "email": request.POST.get("email", "")}
    try:
        address = address_services.request_notification_address(actor=_user(request), **values)
    except DomainError as error:
        return _error(request, f"address-{values['kind']}", error, values)
    if address is None:
        messages.success(request, _("Messages of this kind go to your account address again."))
    else:
        messages.success(
            request,
            _("We sent a confirmation link to %(email)s. The address is used once you open it.")
            % {"email": address.email},
        )
    return redirect("account:settings")


@login_required
@require_POST
def remove_address(request: HttpRequest, kind: str) -> HttpResponse:
    try:
        address_services.remove_notification_address(actor=_user(request), kind=kind)
    except DomainError as error:
        return _error(request, f"address-{kind}", error, {})
    messages.success(request, _("Messages of this kind go to your account address again."))
    return redirect("account:settings")


@login_required
@require_http_methods(["GET", "POST"])
def confirm_address(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what will be confirmed (mail scanners follow links); POST confirms."""
    user = _user(request)
    try:
        data = address_services.read_confirmation(token, actor=user)
        if request.method == "POST":
            address = address_services.confirm_notification_address(actor=user, token=token)
            messages.success(
                request,
                _("%(email)s is confirmed for %(kind)s.")
                % {"email": address.email, "kind": MessageKind(address.kind).label},
            )
            return redirect("account:settings")
    except DomainError as error:
        return render(
            request, "accounts/confirm_address.html", {"error": str(error.message)}, status=error.status
        )
    kind = str(data["k"])
    return render(
        request,
        "accounts/confirm_address.html",
        {
            "email": data["e"],
            "kind_label": MessageKind(kind).label if kind in MessageKind.values else kind,
            "token": token,
        },
    )


@login_required
@require_POST
def email_notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    wanted = set(request.POST.getlist("email"))
    muted = [
        c for c in services.categories_for(user) if c not in wanted and c not in services.LOCKED_CATEGORIES
    ]
    unknown = wanted - set(services.categories_for(user))
    try:
        if unknown:
            raise ValidationFailed(_("Unknown kind of notification."), field="email")
        services.set_email_preferences(actor=user, muted=muted)
    except DomainError as error:
        return _error(request, "email", error, {})
    messages.success(request, _("Your email notification choices were saved."))
    return redirect("account:settings")


@login_required
@require_POST
def create_token(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "")
    try:
        token, secret = account_services.issue_api_token(actor=_user(request), name=name)
    except DomainError as error:
        return _error(request, "tokens", error, {"token_name": name})
    # Rendered, not redirected: the secret is shown this once and stored nowhere (not even the session).
    response = _page(request, new_token={"name": token.name, "secret": secret})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = account_services.revoke_api_token(actor=_user(request), token_id=token_id)
    except DomainError as error:
        return _error(request, "tokens", error, {})
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("account:settings")
