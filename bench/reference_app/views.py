from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from reference_app.models import Hit


@csrf_exempt
@require_POST
def hit(request: HttpRequest) -> JsonResponse:
    """Insert one row and return it as JSON (the reference for POST /api/v1/tickets)."""
    label = str(json.loads(request.body or b"{}").get("label", ""))[:100]
    row = Hit.objects.create(label=label)
    return JsonResponse(
        {"id": row.pk, "label": row.label, "created_at": row.created_at.isoformat()}, status=201
    )
