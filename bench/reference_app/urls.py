from __future__ import annotations

from django.urls import path

from reference_app.views import hit

urlpatterns = [path("hit", hit)]
