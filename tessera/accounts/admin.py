from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from tessera.accounts.models import ApiToken, Department, Membership, Organisation, User


class MembershipInline(admin.TabularInline[Membership, Department]):
    model = Membership
    extra = 1
    fields = ("agent", "is_lead")
    autocomplete_fields = ("agent",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ("name", "slug", "email", "auto_assign", "reopen_window_days", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    ordering = ("email",)
    list_display = ("email", "full_name", "role", "organisation", "is_verified", "is_active")
    list_filter = ("role", "is_active", "is_verified")
    search_fields = ("email", "full_name", "phone")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "phone", "language", "time_zone", "is_verified")}),
        (_("Role"), {"fields": ("role", "organisation", "is_org_manager", "languages_spoken", "skills")}),
        (_("Access"), {"fields": ("is_active", "is_superuser", "groups", "user_permissions")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "password1", "password2")}),)
    filter_horizontal = ("groups", "user_permissions")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "prefix", "key_hash", "created_at", "last_used_at")
    search_fields = ("user__email", "name", "prefix")

    def has_add_permission(self, request: object) -> bool:
        return False  # tokens are issued through the API so the secret is shown exactly once
