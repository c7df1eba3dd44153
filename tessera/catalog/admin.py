from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tessera.catalog.models import CustomerService
from tessera.catalog.services import CSV_COLUMNS, ImportFailed, import_services_csv
from tessera.core.errors import DomainError


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, first line naming the columns."))


@admin.register(CustomerService)
class CustomerServiceAdmin(admin.ModelAdmin[CustomerService]):
    list_display = ("name", "order_number", "user", "organisation", "component", "is_active", "updated_at")
    list_filter = ("is_active", "component__group")
    search_fields = ("name", "order_number", "user__email", "organisation__name")
    autocomplete_fields = ("user", "organisation")
    list_select_related = ("user", "organisation", "component__group")
    change_list_template = "catalog/admin/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/", self.admin_site.admin_view(self.import_view), name="catalog_customerservice_import"
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV; every row is checked first, and a file with any bad row imports nothing."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[Any] = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = import_services_csv(actor=request.user, data=upload.read())  # type: ignore[arg-type]
            except ImportFailed as failure:
                errors = failure.errors
                form.add_error("file", str(failure.message))
            except DomainError as error:
                form.add_error("file", str(error.message))
            else:
                messages.success(request, imported_message(result.created, result.updated))
                return redirect("admin:catalog_customerservice_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import customer services"),
            "opts": self.model._meta,
            "form": form,
            "errors": errors,
            "columns": ", ".join(CSV_COLUMNS),
        }
        return TemplateResponse(
            request, "catalog/admin/import.html", context, status=422 if form.errors else 200
        )


def imported_message(created: int, updated: int) -> str:
    """E.g. "Imported: 1 new service, 3 services updated." Each count takes its own plural form (Polish has
    three), so each is its own ngettext message."""
    new = ngettext("%(count)d new service", "%(count)d new services", created) % {"count": created}
    changed = ngettext("%(count)d service updated", "%(count)d services updated", updated) % {
        "count": updated
    }
    return str(_("Imported: %(new)s, %(updated)s.") % {"new": new, "updated": changed})
