"""Sign-up: the fields allauth's form gains (settings.ACCOUNT_SIGNUP_FORM_CLASS)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class SignupExtraForm(forms.Form):
    """Fields allauth's sign-up form gains: a name for the agents, and the browser's time zone."""

    full_name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    time_zone = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def signup(self, request: HttpRequest, user: Any) -> None:
        """The adapter already copied these fields onto the user."""
