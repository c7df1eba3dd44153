"""Pages during a database outage: 503 with Retry-After, so browsers, proxies and monitors know to come
back, instead of a 500. The API answers its own errors (tessera.api)."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it while handling the exception, which sys.exc_info() still holds."""
    failure = sys.exc_info()[1]
    if isinstance(failure, OperationalError | InterfaceError) and not request.path.startswith("/api/"):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    return defaults.server_error(request)
