from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import NinjaAPI
from ninja.throttling import AuthRateThrottle

from tessera.accounts.api import router as accounts_router
from tessera.api import problems
from tessera.api.auth import SessionAuth, TokenAuth
from tessera.api.openapi import document_problems
from tessera.catalog.api import router as catalog_router
from tessera.mail.api import router as mail_router
from tessera.mail.setup_api import router as mail_setup_router
from tessera.notifications.api import router as notifications_router
from tessera.search.api import router as search_router
from tessera.sla.api import router as sla_router
from tessera.status.api import router as status_router
from tessera.tickets.api import router as tickets_router


class TesseraAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return document_problems(super().get_openapi_schema(**kwargs))


api = TesseraAPI(
    title="Tessera API",
    version="1",
    description="The Tessera help desk API. Authenticate with `Authorization: Bearer <token>`; errors are "
    "RFC 9457 problem details (application/problem+json).",
    auth=[TokenAuth(), SessionAuth()],
    throttle=[AuthRateThrottle(settings.TESSERA_API_RATE)],
    urls_namespace="api",
    parser=problems.JsonParser(),
)
problems.install(api)
api.add_router("", tickets_router)
api.add_router("", accounts_router)
api.add_router("", sla_router)
api.add_router("", search_router)
api.add_router("", notifications_router)
api.add_router("", catalog_router)
api.add_router("", status_router)
api.add_router("", mail_router)
api.add_router("", mail_setup_router)
